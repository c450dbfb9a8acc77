import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, type ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { advanceRelease } from '../../../functions/advance-release/core';
import { checkReleaseIsNewest } from '../../../functions/check-release-is-newest/core';
import { planRelease } from '../../../functions/plan-release/core';
import { planReleaseRollback } from '../../../functions/plan-release-rollback/core';
import { proveReleaseConsistency } from '../../../functions/prove-release-consistency/core';
import { nextWindowStart } from '../../../functions/shared/domain/deploy-window';
import {
  latestPushKey,
  pushExecutionName,
  readRelease,
  type ReleaseRecord,
  releaseKey,
  releaseWaves,
  reverseDependencyOrder,
  writeRelease,
} from '../../../functions/shared/domain/release';
import { InvalidReleaseRequestError, ReleaseInconsistentError } from '../../../functions/shared/runtime/errors';
import { exampleFleet, type TestDeps, testDeps } from '../../support/handler-deps';
import { SimulatedStateTable } from './simulated-state-table';

/** Monday 05:20 London: inside the example fleet's morning window. */
const IN_WINDOW = '2026-01-05T05:20:00.000Z';
const EXECUTION = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-release:release-1';
const repo = (service: string): string => `111122223333.dkr.ecr.eu-west-2.amazonaws.com/${service}`;
const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const taskDefinition = (service: string, n: number): string => `arn:aws:ecs:eu-west-2:111122223333:task-definition/${service}:${n}`;

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;
let ssm: AwsClientStub<SSMClient>;
let state: SimulatedStateTable;

/** Each service runs revision 1 of its family with image `<repo>@sha256:000…`. */
function stubFleetRevisions(revisions: Record<string, number> = {}): void {
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    const name = input.services[0] ?? '';
    return { services: [{ serviceName: name, deployments: [{ status: 'PRIMARY', taskDefinition: taskDefinition(name, revisions[name] ?? 1) }] }] };
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const family = (input.taskDefinition.split('/').pop() ?? '').split(':')[0] ?? '';
    const n = Number(input.taskDefinition.split(':').pop());
    return {
      taskDefinition: { taskDefinitionArn: input.taskDefinition, containerDefinitions: [{ name: family, image: `${repo(family)}@${digest(String(n - 1))}` }] },
    };
  });
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(IN_WINDOW));
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ecs = mockClient(deps.clients.ecs);
  ssm = mockClient(deps.clients.ssm);
  ddb.on(PutItemCommand).resolves({});
  state = new SimulatedStateTable(ddb);
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify({ halted: false }) } });
  stubFleetRevisions();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('release waves and order', () => {
  it('computes waves from dependsOn restricted to the released services', () => {
    const fleet = exampleFleet();
    expect(releaseWaves(fleet, ['risk-engine', 'reference-data', 'market-data'])).toEqual([['reference-data'], ['market-data'], ['risk-engine']]);
    // position-service is not released, so risk-engine waits only for market-data.
    expect(releaseWaves(fleet, ['risk-engine', 'market-data', 'trade-service'])).toEqual([['market-data', 'trade-service'], ['risk-engine']]);
    expect(releaseWaves(fleet, ['order-gateway'])).toEqual([['order-gateway']]);
  });

  it('rolls back in reverse dependency order, only what is asked for', () => {
    const waves = [['reference-data'], ['market-data', 'trade-service'], ['risk-engine']];
    expect(reverseDependencyOrder(waves)).toEqual(['risk-engine', 'trade-service', 'market-data', 'reference-data']);
    expect(reverseDependencyOrder(waves, (s) => s !== 'risk-engine')).toEqual(['trade-service', 'market-data', 'reference-data']);
  });

  it('names push releases after the digest, within Step Functions limits', () => {
    expect(pushExecutionName('order-gateway', digest('a'))).toBe(`push-order-gateway-${'a'.repeat(40)}`);
  });

  it('finds the next deploy window within a limit', () => {
    const windows = exampleFleet().deploy.windows;
    expect(nextWindowStart(windows, new Date('2026-01-05T08:00:00Z'), 24 * 3600_000)?.toISOString()).toBe('2026-01-05T16:45:00.000Z');
    expect(nextWindowStart(windows, new Date('2026-01-05T08:00:00Z'), 3600_000)).toBeUndefined();
    expect(nextWindowStart(windows, new Date(IN_WINDOW), 0)?.toISOString()).toBe(IN_WINDOW);
  });
});

const plan = (request: unknown) => planRelease.core({ executionId: EXECUTION, request }, deps);

describe('plan-release', () => {
  it('records the release: waves, the fleet before, each service PENDING', async () => {
    const result = await plan({ services: { 'market-data': `${repo('market-data')}@${digest('b')}` }, requestedBy: 'me', reason: 'fix' });
    expect(result.release).toEqual({ id: 'release-1', kind: 'release', waitUntil: null, maxParallelDeploys: 3 });
    const record = await readRelease(deps, 'release-1');
    expect(record).toMatchObject({
      status: 'RUNNING',
      waves: [['market-data']],
      fleetBefore: { 'market-data': { taskDefinitionArn: taskDefinition('market-data', 1), image: `${repo('market-data')}@${digest('0')}` } },
      services: { 'market-data': { status: 'PENDING', digest: digest('b'), previousTaskDefinitionArn: taskDefinition('market-data', 1) } },
    });
  });

  it('refuses an unknown service, a tag, another repository, and a halt, naming the field', async () => {
    await expect(plan({ services: { nope: `${repo('nope')}@${digest('b')}` }, requestedBy: 'me', reason: 'x' })).rejects.toThrow(/services\.nope/);
    await expect(plan({ services: { 'market-data': `${repo('market-data')}:1.0.0` }, requestedBy: 'me', reason: 'x' })).rejects.toThrow(
      /services\.market-data: must be .*market-data@sha256/,
    );
    await expect(plan({ services: { 'market-data': `${repo('trade-service')}@${digest('b')}` }, requestedBy: 'me', reason: 'x' })).rejects.toThrow(
      InvalidReleaseRequestError,
    );
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify({ halted: true, haltId: 'h-1' }) } });
    await expect(plan({ services: { 'market-data': `${repo('market-data')}@${digest('b')}` }, requestedBy: 'me', reason: 'x' })).rejects.toThrow(/halted/);
  });

  it('outside the windows, waits for the next one, or refuses when it is too far', async () => {
    vi.setSystemTime(new Date('2026-01-05T08:00:00Z'));
    const request = { services: { 'market-data': `${repo('market-data')}@${digest('b')}` }, requestedBy: 'me', reason: 'x' };
    expect((await plan(request)).release.waitUntil).toBe('2026-01-05T16:45:00.000Z');
    deps = { ...deps, fleet: { ...deps.fleet, release: { ...deps.fleet.release, maxWindowWaitHours: 4 } } };
    await expect(plan(request)).rejects.toThrow(/no deploy window opens within 4 hours/);
  });
});

function releaseRecord(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  const account = (service: string, status: ReleaseRecord['services'][string]['status']) => ({
    service,
    image: `${repo(service)}@${digest('b')}`,
    digest: digest('b'),
    previousTaskDefinitionArn: taskDefinition(service, 1),
    previousImage: `${repo(service)}@${digest('0')}`,
    status,
  });
  return {
    releaseId: 'release-1',
    executionArn: EXECUTION,
    kind: 'release',
    status: 'RUNNING',
    requestedBy: 'me',
    reason: 'fix',
    waves: [['reference-data'], ['market-data'], ['risk-engine']],
    wavesDone: 0,
    services: {
      'reference-data': account('reference-data', 'PENDING'),
      'market-data': account('market-data', 'PENDING'),
      'risk-engine': account('risk-engine', 'PENDING'),
    },
    fleetBefore: {},
    startedAt: IN_WINDOW,
    ...overrides,
  };
}

describe('advance-release and plan-release-rollback', () => {
  it('records each wave, and on a failure stops and rolls back the released services in reverse order', async () => {
    await writeRelease(deps, releaseRecord());
    const advance = (results: Parameters<typeof advanceRelease.core>[0]['results']) =>
      advanceRelease.core({ executionId: EXECUTION, releaseId: 'release-1', results }, deps);
    expect(await advance(null)).toMatchObject({ done: false, failed: false, index: 0, deploys: [{ service: 'reference-data', releaseId: 'release-1' }] });
    stubFleetRevisions({ 'reference-data': 2, 'market-data': 2 });
    expect(await advance([{ service: 'reference-data', status: 'RELEASED' }])).toMatchObject({ index: 1, deploys: [{ service: 'market-data' }] });
    expect(await advance([{ service: 'market-data', status: 'RELEASED' }])).toMatchObject({ index: 2, deploys: [{ service: 'risk-engine' }] });
    const failed = await advance([
      {
        service: 'risk-engine',
        status: 'FAILED',
        error: 'States.TaskFailed',
        cause: JSON.stringify({ Error: 'DeploymentFailedError', Cause: 'circuit breaker' }),
      },
    ]);
    expect(failed).toMatchObject({ failed: true, deploys: [] });
    const record = await readRelease(deps, 'release-1');
    expect(record?.services['risk-engine']).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('DeploymentFailedError: circuit breaker') });
    expect(record?.services['market-data']).toMatchObject({ status: 'RELEASED', taskDefinitionArn: taskDefinition('market-data', 2) });

    const { services } = await planReleaseRollback.core({ executionId: EXECUTION, releaseId: 'release-1' }, deps);
    expect(services.map((s) => `${s.service}:${s.targetRevision}`)).toEqual(['market-data:1', 'reference-data:1']);
    expect(services[0]).toMatchObject({ source: 'release:release-1', requestedBy: 'me' });
  });

  it('plans a fleet rollback of a finished release: every changed service back to its revision before it', async () => {
    stubFleetRevisions({ 'reference-data': 2, 'market-data': 2, 'risk-engine': 1 });
    const released = releaseRecord({ releaseId: 'old-release', status: 'SUCCEEDED' });
    for (const s of ['reference-data', 'market-data', 'risk-engine']) (released.services[s] as { status: string }).status = 'RELEASED';
    await writeRelease(deps, released);
    await plan({ rollbackOf: 'old-release', requestedBy: 'me', reason: 'back out' });
    const record = await readRelease(deps, 'release-1');
    expect(record).toMatchObject({ kind: 'rollback', rollbackOf: 'old-release', status: 'ROLLING_BACK' });
    // risk-engine already runs its revision before the release.
    expect(record?.services['risk-engine']?.status).toBe('SKIPPED');
    const { services } = await planReleaseRollback.core({ executionId: EXECUTION, releaseId: 'release-1' }, deps);
    expect(services.map((s) => `${s.service}:${s.targetRevision}`)).toEqual(['market-data:1', 'reference-data:1']);
    await expect(plan({ rollbackOf: 'missing', requestedBy: 'me', reason: 'x' })).rejects.toThrow(/rollbackOf: there is no release missing/);
  });
});

describe('check-release-is-newest', () => {
  it('is superseded when the service was pushed again with another digest', async () => {
    await writeRelease(
      deps,
      releaseRecord({
        source: { type: 'push', digest: digest('b') },
        waves: [['order-gateway']],
        services: {
          'order-gateway': {
            service: 'order-gateway',
            image: `${repo('order-gateway')}@${digest('b')}`,
            digest: digest('b'),
            previousTaskDefinitionArn: taskDefinition('order-gateway', 1),
            previousImage: '',
            status: 'PENDING',
          },
        },
      }),
    );
    const check = () => checkReleaseIsNewest.core({ executionId: EXECUTION, releaseId: 'release-1' }, deps);
    await state.put({ pk: latestPushKey('order-gateway'), digest: digest('b'), pushedAt: IN_WINDOW });
    expect((await check()).superseded).toBe(false);
    await state.put({ pk: latestPushKey('order-gateway'), digest: digest('c'), pushedAt: IN_WINDOW, tag: '4.3.0' });
    expect(await check()).toMatchObject({ superseded: true, why: expect.stringContaining('4.3.0') });
  });
});

describe('prove-release-consistency', () => {
  it('fails when one running task of a released service runs an old digest', async () => {
    const record = releaseRecord({ waves: [['market-data']] });
    record.services = { 'market-data': { ...(record.services['market-data'] as ReleaseRecord['services'][string]), status: 'RELEASED' } };
    await writeRelease(deps, record);
    ecs
      .on(ListTasksCommand)
      .resolves({ taskArns: ['arn:aws:ecs:eu-west-2:111122223333:task/trading-prod/t1', 'arn:aws:ecs:eu-west-2:111122223333:task/trading-prod/t2'] });
    const task = (id: string, d: string) => ({
      taskArn: `arn:aws:ecs:eu-west-2:111122223333:task/trading-prod/${id}`,
      containers: [{ name: 'market-data', image: `${repo('market-data')}:2.0.0`, imageDigest: d }],
    });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t1', digest('b')), task('t2', digest('0'))] });
    const prove = () => proveReleaseConsistency.core({ executionId: EXECUTION, releaseId: 'release-1' }, deps);
    await expect(prove()).rejects.toThrow(ReleaseInconsistentError);
    await expect(prove()).rejects.toThrow(/t2 runs sha256:0{64}/);
    expect((await state.item(releaseKey('release-1')))?.consistency).toMatchObject({ proven: false, tasks: 2 });

    ecs.on(DescribeTasksCommand).resolves({ tasks: [task('t1', digest('b')), task('t2', digest('b'))] });
    await expect(prove()).resolves.toEqual({ proven: true, tasks: 2 });
  });
});
