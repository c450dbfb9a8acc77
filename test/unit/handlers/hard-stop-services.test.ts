import { type AttributeValue, ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import {
  DescribeServicesCommand,
  type DescribeServicesCommandInput,
  type ECSClient,
  UpdateServiceCommand,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hardStopServices } from '../../../functions/hard-stop-services/core';
import type { Halt } from '../../../functions/shared/domain/halt-plan';
import type { Fleet } from '../../../lib/fleet/fleet';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, buildService } from './builders';
import { buildHalt, HALT_EXECUTION_ID, HALT_ID } from './halt-builders';

const NOW = new Date('2025-07-05T12:20:02.000Z');
const SNAPSHOT_KEY = `halt#${HALT_ID}#capacity#market-data`;

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;
/** The state table, as DynamoDB would hold it (PutItem honours attribute_not_exists(pk)). */
let stateTable: Map<string, Record<string, AttributeValue>>;
/** Each ECS service's desired count, as UpdateService leaves it. */
let desiredCounts: Map<string, number>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ecs = mockClient(deps.clients.ecs);
  stateTable = new Map();
  desiredCounts = new Map([
    ['market-data', 5],
    ['risk-engine', 3],
    ['order-gateway', 4],
  ]);
  ddb.on(PutItemCommand, { TableName: testConfig.auditTableName }).resolves({});
  ddb.on(PutItemCommand, { TableName: testConfig.stateTableName }).callsFake((input: PutItemCommandInput) => {
    const pk = input.Item?.pk?.S ?? '';
    if (input.ConditionExpression === 'attribute_not_exists(pk)' && stateTable.has(pk)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    stateTable.set(pk, input.Item ?? {});
    return {};
  });
  ecs.on(DescribeServicesCommand).callsFake((input: DescribeServicesCommandInput) => {
    const name = input.services?.[0] ?? '';
    const desired = desiredCounts.get(name);
    return desired === undefined
      ? { services: [], failures: [{ arn: name, reason: 'MISSING' }] }
      : { services: [buildService([], { serviceName: name, desiredCount: desired, runningCount: desired })], failures: [] };
  });
  ecs.on(UpdateServiceCommand).callsFake((input: UpdateServiceCommandInput) => {
    desiredCounts.set(input.service ?? '', input.desiredCount ?? -1);
    return { service: buildService([], { serviceName: input.service, desiredCount: input.desiredCount }) };
  });
});

afterEach(() => {
  vi.useRealTimers();
});

const hardStop = (halt: Halt = buildHalt()) => hardStopServices.core({ executionId: HALT_EXECUTION_ID, halt }, deps);
const snapshot = (key: string): Record<string, unknown> | undefined => {
  const item = stateTable.get(key);
  return item ? unmarshall(item) : undefined;
};

/** The example fleet with risk-engine's halt mode set to `mode`. */
function withRiskEngineMode(mode: 'soft' | 'hard'): Fleet {
  const riskEngine = deps.fleet.services['risk-engine'];
  if (!riskEngine?.halt) throw new Error('the example fleet has a trading risk-engine');
  return { ...deps.fleet, services: { ...deps.fleet.services, 'risk-engine': { ...riskEngine, halt: { ...riskEngine.halt, mode } } } };
}

describe('hard-stop-services', () => {
  it('scales only the hard-stop services to zero, leaving the soft ones running', async () => {
    await expect(hardStop()).resolves.toEqual({ stopped: [{ service: 'market-data', previousDesiredCount: 5 }] });

    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { cluster: 'trading-prod', service: 'market-data', desiredCount: 0 });
    expect(desiredCounts.get('risk-engine')).toBe(3);
    expect(desiredCounts.get('order-gateway')).toBe(4);
    expect(ecs).not.toHaveReceivedCommandWith(DescribeServicesCommand, { services: ['order-gateway'] });
  });

  it('snapshots the desired count ECS reports (not the fleet default) under halt#<haltId>#capacity#<service>, first', async () => {
    await hardStop();

    expect(snapshot(SNAPSHOT_KEY)).toEqual({ pk: SNAPSHOT_KEY, desiredCount: 5, at: NOW.toISOString() });
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, { TableName: testConfig.stateTableName, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: ['market-data'] });
    const [put] = ddb.commandCalls(PutItemCommand, { TableName: testConfig.stateTableName });
    const [update] = ecs.commandCalls(UpdateServiceCommand);
    expect(put && update && put.calledBefore(update)).toBe(true);
  });

  it('does not overwrite the snapshot with 0 when it runs again, and keeps the service at zero', async () => {
    await hardStop();
    expect(desiredCounts.get('market-data')).toBe(0);

    await expect(hardStop()).resolves.toMatchObject({ stopped: [{ service: 'market-data' }] });

    expect(snapshot(SNAPSHOT_KEY)).toMatchObject({ desiredCount: 5 });
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
    expect(desiredCounts.get('market-data')).toBe(0);
    expect(auditTrail(ddb)).toEqual([
      'halt.hard-stop intent started',
      'halt.hard-stop outcome succeeded',
      'halt.hard-stop intent started',
      'halt.hard-stop outcome succeeded',
    ]);
  });

  it("keeps each halt's snapshot apart", async () => {
    await hardStop();
    desiredCounts.set('market-data', 6);

    await hardStop(buildHalt({ haltId: 'halt-later' }));

    expect(snapshot(SNAPSHOT_KEY)).toMatchObject({ desiredCount: 5 });
    expect(snapshot('halt#halt-later#capacity#market-data')).toMatchObject({ desiredCount: 6 });
  });

  it('falls back to the fleet file capacity when ECS does not describe the service', async () => {
    desiredCounts.delete('market-data');

    await hardStop();

    // examples/trading-fleet.yaml: market-data capacity.desired 3.
    expect(snapshot(SNAPSHOT_KEY)).toMatchObject({ desiredCount: 3 });
  });

  it('scales nothing when the halt names no hard-stop service', async () => {
    await expect(hardStop(buildHalt({ services: ['risk-engine', 'order-gateway'] }))).resolves.toEqual({ stopped: [] });

    expect(ecs).not.toHaveReceivedAnyCommand();
    expect(stateTable.size).toBe(0);
  });

  it('stops every hard-stop service the halt names, each with its own snapshot', async () => {
    deps = { ...deps, fleet: withRiskEngineMode('hard') };

    await expect(hardStop()).resolves.toEqual({
      stopped: [
        { service: 'market-data', previousDesiredCount: 5 },
        { service: 'risk-engine', previousDesiredCount: 3 },
      ],
    });

    expect(snapshot(`halt#${HALT_ID}#capacity#risk-engine`)).toMatchObject({ desiredCount: 3 });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { service: 'risk-engine', desiredCount: 0 });
    expect(ecs).not.toHaveReceivedCommandWith(UpdateServiceCommand, { service: 'order-gateway' });
  });

  it('scales the ECS service the fleet entry names', async () => {
    const marketData = deps.fleet.services['market-data'];
    if (!marketData) throw new Error('the example fleet has market-data');
    deps = { ...deps, fleet: { ...deps.fleet, services: { ...deps.fleet.services, 'market-data': { ...marketData, ecsServiceName: 'md-prod-v2' } } } };
    desiredCounts.set('md-prod-v2', 4);

    await hardStop();

    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { service: 'md-prod-v2', desiredCount: 0 });
    // The snapshot is keyed by the fleet service id, which is what the resume looks up.
    expect(snapshot(SNAPSHOT_KEY)).toMatchObject({ desiredCount: 4 });
  });

  it('ignores services the fleet does not have', async () => {
    await expect(hardStop(buildHalt({ services: ['options-pricer', 'market-data'] }))).resolves.toEqual({
      stopped: [{ service: 'market-data', previousDesiredCount: 5 }],
    });
  });

  it('never scales to zero without a snapshot: a failed snapshot write fails the step', async () => {
    ddb
      .on(PutItemCommand, { TableName: testConfig.stateTableName })
      .rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }));

    await expect(hardStop()).rejects.toThrow('Requested resource not found');

    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(auditTrail(ddb)).toEqual(['halt.hard-stop intent started', 'halt.hard-stop outcome failed']);
    expect(auditRecords(ddb)[1]?.error).toEqual({ name: 'ResourceNotFoundException', message: 'Requested resource not found' });
  });

  it('records intent and outcome, with what it stopped', async () => {
    await hardStop();

    expect(auditTrail(ddb)).toEqual(['halt.hard-stop intent started', 'halt.hard-stop outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      subject: 'fleet',
      actor: 'assure',
      source: 'alarm:prod-daily-loss-limit',
      executionId: HALT_EXECUTION_ID,
      after: { stopped: [{ service: 'market-data', previousDesiredCount: 5 }] },
    });
  });
});
