/** route-alarm-event's notify alarms, and the automation settings (notify-only, dry run) that hold the other alarms back. */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  alarmChange,
  AUDIT_FLEET,
  ddb,
  ecs,
  EVENT_ID,
  expectNoAction,
  expectPaged,
  HALT_ALARM,
  NOTIFY_ALARM,
  PAGE_CLAIM,
  paged,
  ROLLBACK_ALARM,
  route,
  ssm,
  stubClaimTaken,
  theRecord,
  useRouteAlarmStubs,
  withGuardRails,
  writes,
} from './support';

useRouteAlarmStubs();

describe('route-alarm-event: notify alarms and automation settings', () => {
  it('a notify alarm only pages', async () => {
    const result = await route(alarmChange(NOTIFY_ALARM));

    expect(result).toEqual({ eventId: EVENT_ID, alarmName: NOTIFY_ALARM, decision: 'notified', why: 'notify-only alarm' });
    expect(theRecord()).toMatchObject({ subject: 'fleet', reason: 'notify-only alarm', after: { decision: 'notified', alarm: NOTIFY_ALARM, kind: 'notify' } });
    expectPaged(NOTIFY_ALARM, 'notified', 'notify-only alarm');
    expect(writes()).toEqual(paged(NOTIFY_ALARM));
    expectNoAction();
  });

  it('the same event delivered again is recorded again but pages nobody (EventBridge delivers at least once)', async () => {
    stubClaimTaken(`once#page#${EVENT_ID}`);
    const result = await route(alarmChange(NOTIFY_ALARM));

    expect(result).toMatchObject({ eventId: EVENT_ID, decision: 'notified' });
    expect(writes()).toEqual([PAGE_CLAIM, AUDIT_FLEET]);
    expect(theRecord()).toMatchObject({ after: { decision: 'notified', page: 'not needed', pageWhy: 'paged already' } });
  });

  describe.each([
    { alarm: HALT_ALARM, kind: 'halt', subject: 'fleet', would: 'halt trading' },
    { alarm: ROLLBACK_ALARM, kind: 'rollback', subject: 'order-gateway', would: 'roll back order-gateway' },
  ])('$kind alarm', ({ alarm, kind, subject, would }) => {
    it("automation 'notify-only' suppresses the action and pages instead", async () => {
      withGuardRails({ automation: 'notify-only' });

      const result = await route(alarmChange(alarm));

      const why = `automation is notify-only: would ${would}`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'suppressed', why });
      expect(theRecord()).toMatchObject({ subject, reason: why, after: { decision: 'suppressed', alarm, kind } });
      expectPaged(alarm, 'suppressed', why);
      expect(writes()).toEqual(paged(alarm, `dynamodb TransactWriteItems audit subject#${subject}`));
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
      expect(ddb).not.toHaveReceivedCommand(GetItemCommand);
    });

    it('dryRun records what would have been done, and does nothing', async () => {
      withGuardRails({ dryRun: true });

      const result = await route(alarmChange(alarm));

      const why = `dry run: would ${would}`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'dry-run', why });
      expect(theRecord()).toMatchObject({ subject, reason: why, after: { decision: 'dry-run', alarm, kind } });
      expectPaged(alarm, 'dry-run', why);
      expect(writes()).toEqual(paged(alarm, `dynamodb TransactWriteItems audit subject#${subject}`));
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it("'notify-only' takes precedence over dryRun", async () => {
      withGuardRails({ automation: 'notify-only', dryRun: true });

      await expect(route(alarmChange(alarm))).resolves.toMatchObject({ decision: 'suppressed' });
      expectNoAction();
    });
  });

  it('a notify alarm is still only a page under notify-only and dry run', async () => {
    withGuardRails({ automation: 'notify-only', dryRun: true });

    await expect(route(alarmChange(NOTIFY_ALARM))).resolves.toMatchObject({ decision: 'notified' });
    expect(writes()).toEqual(paged(NOTIFY_ALARM));
  });
});
