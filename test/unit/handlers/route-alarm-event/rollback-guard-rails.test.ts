/** route-alarm-event's guard rails on automatic rollbacks: cooldown, once per deployment, the hourly budget, and giving claims back. */
import { DeleteItemCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { AwsTransientError } from '../../../../functions/shared/runtime/errors';
import { testConfig } from '../../../support/handler-deps';
import { auditRecords } from '../builders';
import { SimulatedStateTable } from '../simulated-state-table';
import {
  alarmChange,
  AUDIT_ORDER_GATEWAY,
  BUDGET_CLAIM,
  conditionFailed,
  COOLDOWN_CLAIM,
  ddb,
  DEPLOYMENT_CLAIM,
  DEPLOYMENT_ID,
  deps,
  ecs,
  EVENT_CLAIM,
  EVENT_ID,
  EXECUTION_NAME,
  expectPaged,
  NOW_SECONDS,
  ROLLBACK_ALARM,
  ROLLBACK_EXECUTION_ARN,
  route,
  sfn,
  sns,
  stubClaimTaken,
  theRecord,
  throttled,
  transient,
  useRouteAlarmStubs,
  withGuardRails,
  writes,
  paged,
} from './support';

useRouteAlarmStubs();

describe('route-alarm-event: rollback alarms', () => {
  describe('guard rails', () => {
    it('a service in its cooldown: suppressed and paged', async () => {
      stubClaimTaken('cooldown#rollback#order-gateway');

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = 'order-gateway is in its 15-minute cooldown after an automatic action';
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'suppressed', why });
      expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, ...paged(ROLLBACK_ALARM, AUDIT_ORDER_GATEWAY)]);
      expectPaged(ROLLBACK_ALARM, 'suppressed', why);
      expect(sfn).not.toHaveReceivedAnyCommand();
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it('a deployment already rolled back automatically once: suppressed and paged', async () => {
      stubClaimTaken(`once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`);

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = `deployment ${DEPLOYMENT_ID} of order-gateway was already rolled back automatically once`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'suppressed', why });
      // The cooldown claimed for an action that did not happen is given back.
      expect(writes()).toEqual([
        EVENT_CLAIM,
        COOLDOWN_CLAIM,
        DEPLOYMENT_CLAIM,
        'dynamodb DeleteItem state cooldown#rollback#order-gateway',
        ...paged(ROLLBACK_ALARM, AUDIT_ORDER_GATEWAY),
      ]);
      expectPaged(ROLLBACK_ALARM, 'suppressed', why);
      expect(sfn).not.toHaveReceivedAnyCommand();
    });

    it("the hour's budget spent: suppressed, and a human is paged", async () => {
      ddb.on(UpdateItemCommand, { TableName: testConfig.stateTableName }).rejects(conditionFailed());

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = 'the budget of 6 automatic actions this hour is spent: a human must decide';
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'suppressed', why });
      expect(writes()).toEqual([
        EVENT_CLAIM,
        COOLDOWN_CLAIM,
        DEPLOYMENT_CLAIM,
        BUDGET_CLAIM,
        // Given back, newest first: the deployment keeps its one automatic rollback, the service no cooldown.
        `dynamodb DeleteItem state once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`,
        'dynamodb DeleteItem state cooldown#rollback#order-gateway',
        ...paged(ROLLBACK_ALARM, AUDIT_ORDER_GATEWAY),
      ]);
      expect(theRecord()).toMatchObject({ reason: why, after: { decision: 'suppressed', kind: 'rollback' } });
      expectPaged(ROLLBACK_ALARM, 'suppressed', why);
      expect(sfn).not.toHaveReceivedAnyCommand();
    });

    it('an event already routed is a duplicate: nothing read, nothing done, nobody paged', async () => {
      stubClaimTaken(`once#event#${EVENT_ID}`);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toEqual({
        eventId: EVENT_ID,
        alarmName: ROLLBACK_ALARM,
        decision: 'duplicate',
        why: 'this event was already routed',
      });
      expect(writes()).toEqual([EVENT_CLAIM, AUDIT_ORDER_GATEWAY]);
      expect(ddb).not.toHaveReceivedCommand(GetItemCommand);
      expect(sfn).not.toHaveReceivedAnyCommand();
    });

    it('a name already used by another input (ExecutionAlreadyExists) is a duplicate, not paged', async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } }));

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'duplicate', why: 'this event already started a rollback' });
      expect(sns).not.toHaveReceivedCommand(PublishCommand);
      expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
    });

    it('another event within the cooldown is suppressed (against DynamoDB semantics)', async () => {
      new SimulatedStateTable(ddb);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
      vi.setSystemTime(new Date('2025-07-05T12:30:30.000Z'));
      const later = await route(alarmChange('prod-order-gateway-latency-p99', { id: 'later-event', time: '2025-07-05T12:30:00Z' }));

      expect(later).toMatchObject({ decision: 'suppressed', why: expect.stringContaining('cooldown') });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });
  });

  describe('giving claims back when the rollback fails to start', () => {
    const released = [
      'dynamodb UpdateItem state budget#2025-07-05T12',
      `dynamodb DeleteItem state once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`,
      'dynamodb DeleteItem state cooldown#rollback#order-gateway',
      `dynamodb DeleteItem state once#event#${EVENT_ID}`,
    ];

    it.each([
      ['AwsTransientError', transient],
      ['ThrottlingException', throttled],
    ])('StartExecution failing with %s: rethrown, every claim released newest first, nothing recorded', async (_label, error) => {
      const failure = error();
      sfn.on(StartExecutionCommand).rejects(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);

      expect(writes()).toEqual([
        EVENT_CLAIM,
        COOLDOWN_CLAIM,
        DEPLOYMENT_CLAIM,
        BUDGET_CLAIM,
        `sfn StartExecution assure-prod-rollback ${EXECUTION_NAME}`,
        ...released,
      ]);
      for (const pk of [`once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`, 'cooldown#rollback#order-gateway', `once#event#${EVENT_ID}`]) {
        expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, {
          TableName: testConfig.stateTableName,
          Key: marshall({ pk }),
          ConditionExpression: 'claimId = :claimId',
          ExpressionAttributeValues: marshall({ ':claimId': EVENT_ID }),
        });
      }
      expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
        TableName: testConfig.stateTableName,
        Key: marshall({ pk: 'budget#2025-07-05T12' }),
        UpdateExpression: 'ADD used :minusOne',
        ConditionExpression: 'used > :zero',
        ExpressionAttributeValues: marshall({ ':minusOne': -1, ':zero': 0 }),
      });
      expect(auditRecords(ddb)).toEqual([]);
      expect(sns).not.toHaveReceivedCommand(PublishCommand);
    });

    it('DescribeServices failing: the event and cooldown claims are given back', async () => {
      const failure = new AwsTransientError('ECS.DescribeServices', 'ThrottlingException', 'Rate exceeded');
      ecs.on(DescribeServicesCommand).rejects(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);
      expect(writes()).toEqual([
        EVENT_CLAIM,
        COOLDOWN_CLAIM,
        'dynamodb DeleteItem state cooldown#rollback#order-gateway',
        `dynamodb DeleteItem state once#event#${EVENT_ID}`,
      ]);
    });

    it('the budget claim failing: the claims before it are given back', async () => {
      const failure = new AwsTransientError('DynamoDB.UpdateItem', 'ProvisionedThroughputExceededException', 'Throughput exceeded');
      ddb.on(UpdateItemCommand, { TableName: testConfig.stateTableName }).rejectsOnce(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);
      expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, DEPLOYMENT_CLAIM, BUDGET_CLAIM, ...released.slice(1)]);
    });

    it('a claim that cannot be given back is reported; the others are still released and the original error rethrown', async () => {
      const failure = transient();
      sfn.on(StartExecutionCommand).rejects(failure);
      const releaseError = new AwsTransientError('DynamoDB.DeleteItem', 'ThrottlingException', 'Rate exceeded');
      ddb.on(DeleteItemCommand, { Key: { pk: { S: 'cooldown#rollback#order-gateway' } } }).rejects(releaseError);
      const logged = vi.spyOn(deps.logger, 'error');

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);

      expect(writes().slice(-4)).toEqual(released);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('Could not release a guard-rail claim'), {
        claim: 'cooldown#rollback#order-gateway',
        error: releaseError,
      });
    });

    it("EventBridge's retry is not refused by the first attempt's claims (against DynamoDB semantics)", async () => {
      const table = new SimulatedStateTable(ddb);
      sfn.on(StartExecutionCommand).rejectsOnce(transient()).resolves({ executionArn: ROLLBACK_EXECUTION_ARN, startDate: new Date() });

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBeInstanceOf(AwsTransientError);
      expect(await table.item('cooldown#rollback#order-gateway')).toBeUndefined();
      expect(await table.item('budget#2025-07-05T12')).toMatchObject({ used: 0 });

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started', executionArn: ROLLBACK_EXECUTION_ARN });
      expect(await table.item('budget#2025-07-05T12')).toMatchObject({ used: 1 });
      expect(await table.item('cooldown#rollback#order-gateway')).toMatchObject({ claimId: EVENT_ID });
    });
  });

  describe('guard-rail bookkeeping', () => {
    // The audit write and the page come after the start: when they fail, the running rollback still counts against the guard rails.
    it('a page that fails gives back only its own claims (the flap window, then the event’s page), not the guard rails', async () => {
      ddb.on(UpdateItemCommand, { TableName: testConfig.stateTableName }).rejects(conditionFailed());
      sns.on(PublishCommand).rejects(new AwsTransientError('SNS.Publish', 'ThrottlingException', 'Rate exceeded'));

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBeInstanceOf(AwsTransientError);

      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      expect(ddb.commandCalls(DeleteItemCommand).map((call) => call.args[0].input.Key?.pk?.S)).toEqual([
        // The guard rails refused the rollback: given back before the decision was recorded.
        `once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`,
        'cooldown#rollback#order-gateway',
        // The page failed: its claims are given back, newest first.
        `page-window#alarm#${ROLLBACK_ALARM}`,
        `once#page#${EVENT_ID}`,
      ]);
    });

    // Claims refused further down are given back: a suppressed rollback must not use up the deployment's one
    // automatic rollback nor start a cooldown "after an automatic action" that never happened.
    it('a rollback suppressed by the budget does not use up the deployment’s automatic rollback', async () => {
      const table = new SimulatedStateTable(ddb);
      await table.put({ pk: 'budget#2025-07-05T12', used: 6, expiresAt: NOW_SECONDS + 3 * 3600 });
      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'suppressed', why: expect.stringContaining('budget') });

      // The next hour, past the cooldown: a fresh budget, the same deployment, a new alarm event.
      vi.setSystemTime(new Date('2025-07-05T13:40:30.000Z'));
      const later = await route(alarmChange(ROLLBACK_ALARM, { id: 'next-hour-event', time: '2025-07-05T13:40:00Z' }));

      expect(later).toMatchObject({ decision: 'rollback-started' });
    });

    // maxAutomatedActionsPerHour: 0 (allowed by the fleet schema) means no automatic rollbacks.
    it('a budget of 0 automatic actions an hour starts no rollback', async () => {
      new SimulatedStateTable(ddb);
      withGuardRails({ maxAutomatedActionsPerHour: 0 });

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'suppressed' });
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });
  });
});
