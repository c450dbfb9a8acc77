/** route-alarm-event and scaling alarms: one scale execution per event, with the breach the alarm reports. */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import type { CloudWatchAlarmStateChange } from '../../../../functions/shared/domain/aws-events';
import { AwsTransientError } from '../../../../functions/shared/runtime/errors';
import { testConfig } from '../../../support/handler-deps';
import { ACCOUNT } from '../builders';
import {
  alarmChange,
  AUDIT_ORDER_GATEWAY,
  ddb,
  EVENT_CLAIM,
  EVENT_ID,
  EXECUTION_NAME,
  expectNoAction,
  route,
  sfn,
  sns,
  ssm,
  STATE_REASON,
  stubClaimTaken,
  theRecord,
  transient,
  useRouteAlarmStubs,
  withGuardRails,
  writes,
  paged,
} from './support';

useRouteAlarmStubs();

describe('route-alarm-event: scaling alarms', () => {
  const SCALE_ALARM = 'prod-order-gateway-cpu-high';
  const SCALE_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-scale:${EXECUTION_NAME}`;
  /** The alarm's state as CloudWatch writes it: the reason and the reasonData the breach is read from. */
  const scaleChange = (reasonData?: string): CloudWatchAlarmStateChange => {
    const event = alarmChange(SCALE_ALARM);
    const { reasonData: _documented, ...state } = event.detail.state;
    return { ...event, detail: { ...event.detail, state: { ...state, ...(reasonData === undefined ? {} : { reasonData }) } } };
  };
  const startInput = (): Record<string, unknown> =>
    JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}') as Record<string, unknown>;

  it('claims the event and starts the scale state machine named after the event, with the breach from reasonData', async () => {
    const result = await route(scaleChange(JSON.stringify({ version: '1.0', recentDatapoints: [86, 84], threshold: 70 })));

    expect(result).toMatchObject({ eventId: EVENT_ID, alarmName: SCALE_ALARM, decision: 'scale-started', executionArn: SCALE_EXECUTION_ARN });
    expect(result.why).toContain('scale-out order-gateway (breach 15)');
    expect(startInput()).toEqual({
      service: 'order-gateway',
      alarm: SCALE_ALARM,
      direction: 'scale-out',
      breach: 15,
      source: `alarm:${SCALE_ALARM}`,
      requestedBy: 'assure',
      reason: `${SCALE_ALARM}: ${STATE_REASON}`,
      eventId: EVENT_ID,
    });
    // Routine: recorded against the service, not paged (the scale workflow pages what a person must know).
    expect(writes()).toEqual([EVENT_CLAIM, `sfn StartExecution assure-prod-scale ${EXECUTION_NAME}`, AUDIT_ORDER_GATEWAY]);
    expect(theRecord()).toMatchObject({ subject: 'order-gateway', after: { decision: 'scale-started', alarm: SCALE_ALARM, kind: 'scale' } });
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it('without reasonData the breach is left out (the workflow takes the mildest step)', async () => {
    await route(scaleChange());
    expect(startInput()).not.toHaveProperty('breach');
  });

  it('a duplicate delivery (its claim taken) starts nothing and pages nobody', async () => {
    stubClaimTaken(`once#event#${EVENT_ID}`);
    await expect(route(scaleChange())).resolves.toMatchObject({ decision: 'duplicate' });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it("gives the event claim back when StartExecution fails, so EventBridge's retry can start it", async () => {
    sfn.on(StartExecutionCommand).rejects(transient());
    await expect(route(scaleChange())).rejects.toThrow(AwsTransientError);
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, { TableName: testConfig.stateTableName, Key: { pk: { S: `once#event#${EVENT_ID}` } } });
  });

  it.each([
    [{ automation: 'notify-only' as const }, 'suppressed', 'automation is notify-only: would scale-out order-gateway'],
    [{ dryRun: true }, 'dry-run', 'dry run: would scale-out order-gateway'],
  ])('%o: nothing started, recorded and paged', async (guardRails, decision, why) => {
    withGuardRails(guardRails);
    await expect(route(scaleChange())).resolves.toEqual({ eventId: EVENT_ID, alarmName: SCALE_ALARM, decision, why });
    expectNoAction();
    expect(writes()).toEqual(paged(SCALE_ALARM, AUDIT_ORDER_GATEWAY));
  });

  it('a change out of ALARM, or INSUFFICIENT_DATA, is refused like any other alarm', async () => {
    await expect(route(alarmChange(SCALE_ALARM, { from: 'ALARM', to: 'OK' }))).resolves.toMatchObject({ decision: 'rejected' });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
