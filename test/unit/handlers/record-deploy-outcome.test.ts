import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type DeployOutcomeStatus, recordDeployOutcome } from '../../../functions/record-deploy-outcome/core';
import { EXECUTION_ID, type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { auditRecords, buildBaseline, buildPlan, NEW_REVISION_ARN, PREVIOUS_REVISION_ARN, REPOSITORY, auditWrites } from './builders';

type Failure = { Error: string; Cause?: string };

/** The Cause Step Functions puts in a Catch for a Lambda error: the whole error payload as JSON. */
function lambdaFailure(errorType: string, errorMessage: string): Failure {
  return {
    Error: errorType,
    Cause: JSON.stringify({
      errorType,
      errorMessage,
      trace: [
        `${errorType}: ${errorMessage}`,
        '    at core (file:///var/task/index.mjs:120:11)',
        '    at async Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1206:24)',
      ],
    }),
  };
}

const IMAGE = `${REPOSITORY}:2.4.0`;
const ROLLOUT = { deploymentId: 'ecs-svc/2222222222222222222', startedAt: '2025-07-05T12:01:30.000Z' };
const REVISION = { taskDefinitionArn: NEW_REVISION_ARN, revision: 42, reused: false };
const ROLLBACK = { action: 'confirmed-ecs-rollback', taskDefinitionArn: PREVIOUS_REVISION_ARN, deploymentId: 'ecs-svc/1111111111111111111' };
const GATE_FAILED = lambdaFailure('HealthGateFailedError', 'order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-error-rate');

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
});

interface Outcome {
  status: DeployOutcomeStatus;
  failure?: Failure | null;
  rollback?: typeof ROLLBACK | null;
  rollbackFailure?: Failure | null;
  started?: boolean;
}

/** Records an outcome; `started: false` is a deploy refused before anything changed. */
function record({ status, failure = null, rollback = null, rollbackFailure = null, started = true }: Outcome) {
  return recordDeployOutcome.core(
    {
      executionId: EXECUTION_ID,
      status,
      plan: buildPlan({ image: IMAGE }),
      baseline: started ? buildBaseline() : null,
      revision: started ? REVISION : null,
      rollout: started ? ROLLOUT : null,
      failure,
      rollback,
      rollbackFailure,
    },
    deps,
  );
}

function theRecord() {
  const records = auditRecords(ddb);
  expect(records).toHaveLength(1);
  return records[0];
}

describe('record-deploy-outcome', () => {
  it('records a successful deploy as the deploy outcome', async () => {
    const summary = await record({ status: 'SUCCEEDED' });

    expect(summary.message).toBe(`order-gateway now runs ${IMAGE} (order-gateway:42)`);
    expect(theRecord()).toMatchObject({
      pk: 'subject#order-gateway',
      action: 'deploy',
      subject: 'order-gateway',
      actor: 'alice@example.com',
      source: 'step-functions',
      executionId: EXECUTION_ID,
      reason: 'release 2.4.0',
      phase: 'outcome',
      status: 'succeeded',
      before: { taskDefinitionArn: PREVIOUS_REVISION_ARN },
      after: {
        service: 'order-gateway',
        image: IMAGE,
        status: 'SUCCEEDED',
        previousTaskDefinitionArn: PREVIOUS_REVISION_ARN,
        newTaskDefinitionArn: NEW_REVISION_ARN,
        runningTaskDefinitionArn: NEW_REVISION_ARN,
        deploymentId: ROLLOUT.deploymentId,
        message: summary.message,
      },
    });
    expect(theRecord()).not.toHaveProperty('error');
  });

  it("uses the Lambda error's message for a rolled-back deploy, never the payload JSON or its stack trace", async () => {
    const summary = await record({ status: 'ROLLED_BACK', failure: GATE_FAILED, rollback: ROLLBACK });

    expect(summary.message).toBe(
      `order-gateway: deploy of ${IMAGE} failed and was rolled back to order-gateway:41. HealthGateFailedError: order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-error-rate`,
    );
    const written = theRecord();
    expect(written).toMatchObject({
      status: 'failed',
      error: { name: 'HealthGateFailedError', message: 'order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-error-rate' },
      after: {
        status: 'ROLLED_BACK',
        runningTaskDefinitionArn: PREVIOUS_REVISION_ARN,
        rollbackAction: 'confirmed-ecs-rollback',
        failure: { error: 'HealthGateFailedError', message: 'order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-error-rate' },
      },
    });
    const text = JSON.stringify(written);
    for (const leak of ['errorType', 'errorMessage', 'trace', 'index.mjs', '\\"']) expect(text).not.toContain(leak);
  });

  it('names both failures when the rollback did not verify', async () => {
    const rollbackFailure = lambdaFailure('HealthGateFailedError', 'order-gateway is DEGRADED (rollback gate): capacity degraded: 2/4 tasks running');

    const summary = await record({ status: 'ROLLBACK_FAILED', failure: GATE_FAILED, rollback: ROLLBACK, rollbackFailure });

    expect(summary.message).toBe(
      `order-gateway: deploy of ${IMAGE} failed and the rollback did not verify; a human must act. HealthGateFailedError: order-gateway is UNHEALTHY (release gate): alarms fail: in ALARM: prod-order-gateway-error-rate Rollback: HealthGateFailedError: order-gateway is DEGRADED (rollback gate): capacity degraded: 2/4 tasks running`,
    );
    expect(theRecord()?.after).toMatchObject({
      status: 'ROLLBACK_FAILED',
      rollbackFailure: { error: 'HealthGateFailedError', message: 'order-gateway is DEGRADED (rollback gate): capacity degraded: 2/4 tasks running' },
    });
    // The state machine selects runningTaskDefinitionArn from the result: it is present, and null.
    expect(summary.runningTaskDefinitionArn).toBeNull();
    expect(theRecord()?.after).toHaveProperty('runningTaskDefinitionArn', null);
    expect(JSON.stringify(theRecord())).not.toContain('index.mjs');
  });

  it('records a refused deploy with nothing before it', async () => {
    const refusal = lambdaFailure('DeployLockHeldError', 'order-gateway is already being deployed by order-gateway-0');

    const summary = await record({ status: 'REFUSED', failure: refusal, started: false });

    expect(summary.message).toBe(`order-gateway: deploy of ${IMAGE} refused. DeployLockHeldError: order-gateway is already being deployed by order-gateway-0`);
    expect(theRecord()).toMatchObject({ status: 'failed', before: {}, error: { name: 'DeployLockHeldError' } });
    expect(theRecord()?.after).not.toHaveProperty('previousTaskDefinitionArn');
    expect(summary).toMatchObject({ service: 'order-gateway', image: IMAGE, status: 'REFUSED', runningTaskDefinitionArn: null });
  });

  it('keeps a plain cause (a SendTaskFailure cause or an ECS reason) as it is', async () => {
    const alarm = { Error: 'RollbackAlarmFiredError', Cause: 'prod-order-gateway-latency-p99 is in ALARM: Threshold Crossed' };

    const summary = await record({ status: 'ROLLED_BACK', failure: alarm, rollback: ROLLBACK });

    expect(summary.message).toMatch(/RollbackAlarmFiredError: prod-order-gateway-latency-p99 is in ALARM: Threshold Crossed$/);
    expect(theRecord()?.error).toEqual({ name: 'RollbackAlarmFiredError', message: 'prod-order-gateway-latency-p99 is in ALARM: Threshold Crossed' });
  });

  it('names just the error when there is no cause', async () => {
    const summary = await record({ status: 'ROLLED_BACK', failure: { Error: 'States.Timeout' }, rollback: ROLLBACK });

    expect(summary.message).toBe(`order-gateway: deploy of ${IMAGE} failed and was rolled back to order-gateway:41. States.Timeout`);
  });

  it('writes the record once, conditionally, so a retried step cannot overwrite history', async () => {
    await record({ status: 'SUCCEEDED' });

    const writes = auditWrites(ddb);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.args[0].input.TransactItems?.[0]?.Put).toMatchObject({
      TableName: testConfig.auditTableName,
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });
});
