/** route-alarm-event and rollback alarms: the rollback it starts, and what it leaves to a deploy in progress. */
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { SendTaskFailureCommand, StartExecutionCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { AwsTransientError } from '../../../../functions/shared/runtime/errors';
import { testConfig } from '../../../support/handler-deps';
import { ACCOUNT } from '../builders';
import {
  alarmChange,
  AUDIT_ORDER_GATEWAY,
  BUDGET_CLAIM,
  COOLDOWN_CLAIM,
  ddb,
  DEPLOY_EXECUTION_ARN,
  DEPLOYMENT_CLAIM,
  DEPLOYMENT_ID,
  ecs,
  EVENT_CLAIM,
  EVENT_ID,
  EXECUTION_NAME,
  expectPaged,
  NOW,
  NOW_SECONDS,
  ROLLBACK_ALARM,
  ROLLBACK_EXECUTION_ARN,
  route,
  sfn,
  sns,
  SOAK_TOKEN,
  ssm,
  STATE_REASON,
  STATE_TIMESTAMP,
  stubLock,
  stubSoakWaiting,
  theRecord,
  useRouteAlarmStubs,
  writes,
  pages,
  paged,
} from './support';

useRouteAlarmStubs();

describe('route-alarm-event: rollback alarms', () => {
  const rollbackReason = `${ROLLBACK_ALARM}: ${STATE_REASON}`;

  it('claims the event, a cooldown, the deployment and a unit of budget, then starts the rollback named after the event', async () => {
    const result = await route(alarmChange(ROLLBACK_ALARM));

    expect(result).toEqual({
      eventId: EVENT_ID,
      alarmName: ROLLBACK_ALARM,
      decision: 'rollback-started',
      why: `rolling back order-gateway: ${rollbackReason}`,
      executionArn: ROLLBACK_EXECUTION_ARN,
    });
    expect(writes()).toEqual([
      EVENT_CLAIM,
      COOLDOWN_CLAIM,
      DEPLOYMENT_CLAIM,
      BUDGET_CLAIM,
      `sfn StartExecution assure-prod-rollback ${EXECUTION_NAME}`,
      // No page here: the rollback workflow pages once, with its outcome.
      AUDIT_ORDER_GATEWAY,
    ]);
    expect(ssm).not.toHaveReceivedAnyCommand();
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ stateMachineArn: testConfig.stateMachineArns.rollback, name: EXECUTION_NAME });
    expect(JSON.parse(input?.input ?? '')).toEqual({
      service: 'order-gateway',
      reason: rollbackReason,
      source: `alarm:${ROLLBACK_ALARM}`,
      requestedBy: 'assure',
    });
  });

  it('looks for a soak and a deploy lock with consistent reads, and finds the PRIMARY deployment in ECS', async () => {
    await route(alarmChange(ROLLBACK_ALARM));

    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: testConfig.callbackTableName,
      Key: { pk: { S: 'soak#order-gateway' } },
      ConsistentRead: true,
    });
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: testConfig.lockTableName,
      Key: { pk: { S: 'service#order-gateway' } },
      ConsistentRead: true,
    });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: ['order-gateway'] });
  });

  it("takes the guard-rail claims with the fleet's cooldown and budget, all under the event id", async () => {
    await route(alarmChange(ROLLBACK_ALARM));

    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: testConfig.stateTableName,
      Item: marshall({
        pk: 'cooldown#rollback#order-gateway',
        alarm: ROLLBACK_ALARM,
        claimId: EVENT_ID,
        until: '2025-07-05T12:35:30.000Z',
        expiresAt: NOW_SECONDS + 900,
      }),
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
    });
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: testConfig.stateTableName,
      Item: marshall({
        pk: `once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`,
        alarm: ROLLBACK_ALARM,
        claimId: EVENT_ID,
        at: NOW.toISOString(),
        expiresAt: NOW_SECONDS + 30 * 86_400,
      }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: 'budget#2025-07-05T12' }),
      ExpressionAttributeValues: marshall({ ':one': 1, ':max': 6, ':expires': NOW_SECONDS + 3 * 3600 }),
    });
  });

  it('records the rollback against its execution and leaves the page to the rollback workflow', async () => {
    await route(alarmChange(ROLLBACK_ALARM));

    expect(theRecord()).toMatchObject({
      pk: 'subject#order-gateway',
      subject: 'order-gateway',
      executionId: ROLLBACK_EXECUTION_ARN,
      reason: `rolling back order-gateway: ${rollbackReason}`,
      after: { decision: 'rollback-started', alarm: ROLLBACK_ALARM, kind: 'rollback', page: 'not needed' },
    });
    expect(pages()).toEqual([]);
  });

  it.each([
    ['prod-order-gateway-latency-p99', 'order-gateway'],
    ['prod-market-data-latency-p99', 'market-data'],
    ['prod-web-gui-error-rate', 'web-gui'],
  ])('%s rolls back %s', async (alarm, service) => {
    const result = await route(alarmChange(alarm));

    expect(result).toMatchObject({ decision: 'rollback-started', why: expect.stringContaining(`rolling back ${service}: `) });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: [service] });
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: testConfig.callbackTableName, Key: { pk: { S: `soak#${service}` } } });
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: testConfig.stateTableName,
      Item: expect.objectContaining({ pk: { S: `cooldown#rollback#${service}` } }),
    });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '')).toMatchObject({ service, source: `alarm:${alarm}` });
    expect(theRecord()).toMatchObject({ subject: service });
  });

  describe('a deploy of the service in progress', () => {
    it('ends a waiting soak with RollbackAlarmFiredError and leaves the rollback to the deploy, quietly', async () => {
      stubSoakWaiting();

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = "ended the soak of order-gateway's deploy; it rolls itself back";
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'delegated-to-deploy', why });
      expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
      expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
        taskToken: SOAK_TOKEN,
        error: 'RollbackAlarmFiredError',
        cause: `${ROLLBACK_ALARM} went into ALARM at ${STATE_TIMESTAMP}: ${STATE_REASON}`,
      });
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      expect(writes()).toEqual([EVENT_CLAIM, 'sfn SendTaskFailure task', AUDIT_ORDER_GATEWAY]);
      expect(theRecord()).toMatchObject({ reason: why, after: { decision: 'delegated-to-deploy' } });
      expect(sns).not.toHaveReceivedCommand(PublishCommand);
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it('a soak that already closed (TaskTimedOut) does not stop the rollback', async () => {
      stubSoakWaiting();
      sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } }));

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });

    it('a callback item without a task token is no soak', async () => {
      ddb
        .on(GetItemCommand, { TableName: testConfig.callbackTableName, Key: { pk: { S: 'soak#order-gateway' } } })
        .resolves({ Item: marshall({ pk: 'soak#order-gateway', expiresAt: NOW_SECONDS + 3600 }) });

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
      expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    });

    it('when the soak cannot be ended, gives the event claim back and rethrows', async () => {
      stubSoakWaiting();
      const failure = new AwsTransientError('SFN.SendTaskFailure', 'ThrottlingException', 'Rate exceeded');
      sfn.on(SendTaskFailureCommand).rejects(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);
      expect(writes()).toEqual([EVENT_CLAIM, 'sfn SendTaskFailure task', `dynamodb DeleteItem state once#event#${EVENT_ID}`]);
    });

    it('a deploy still rolling out (it holds the lock) is left to ECS deployment alarms and the health gate', async () => {
      stubLock(DEPLOY_EXECUTION_ARN, NOW_SECONDS + 600);

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = `order-gateway is being deployed (${DEPLOY_EXECUTION_ARN}): ECS deployment alarms and the health gate handle it`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'left-to-ecs', why });
      expect(writes()).toEqual([EVENT_CLAIM, ...paged(ROLLBACK_ALARM, AUDIT_ORDER_GATEWAY)]);
      expectPaged(ROLLBACK_ALARM, 'left-to-ecs', why);
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it('a deploy lock whose lease has run out does not hold the rollback back', async () => {
      stubLock(DEPLOY_EXECUTION_ARN, NOW_SECONDS - 1);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
    });

    it('a lock held by something other than a deploy execution does not hold the rollback back', async () => {
      stubLock(`arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-rollback:manual-1`, NOW_SECONDS + 600);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
    });
  });
});
