import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { recordReleaseOutcome } from '../../../functions/record-release-outcome/core';
import { readRelease, type ReleaseRecord, writeRelease } from '../../../functions/shared/domain/release';
import { type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords } from './builders';
import { SimulatedStateTable } from './simulated-state-table';

const EXECUTION = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-release:release-9';
const repo = (service: string): string => `111122223333.dkr.ecr.eu-west-2.amazonaws.com/${service}`;
const td = (service: string, n: number): string => `arn:aws:ecs:eu-west-2:111122223333:task-definition/${service}:${n}`;
const digest = (c: string): string => `sha256:${c.repeat(64)}`;

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;
let sns: AwsClientStub<SNSClient>;

function record(): ReleaseRecord {
  const account = (service: string, status: ReleaseRecord['services'][string]['status']) => ({
    service,
    image: `${repo(service)}@${digest('b')}`,
    digest: digest('b'),
    previousTaskDefinitionArn: td(service, 1),
    previousImage: `${repo(service)}@${digest('0')}`,
    status,
  });
  return {
    releaseId: 'release-9',
    executionArn: EXECUTION,
    kind: 'release',
    status: 'ROLLING_BACK',
    requestedBy: 'me',
    reason: 'fix',
    waves: [['reference-data'], ['market-data']],
    wavesDone: 2,
    services: { 'reference-data': account('reference-data', 'RELEASED'), 'market-data': account('market-data', 'FAILED') },
    fleetBefore: {
      'reference-data': { taskDefinitionArn: td('reference-data', 1), image: '' },
      'market-data': { taskDefinitionArn: td('market-data', 1), image: '' },
    },
    failure: { error: 'ServiceReleaseFailed', cause: 'market-data: circuit breaker' },
    startedAt: '2026-01-05T05:20:00.000Z',
  };
}

beforeEach(async () => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ecs = mockClient(deps.clients.ecs);
  sns = mockClient(deps.clients.sns);
  ddb.on(PutItemCommand).resolves({});
  new SimulatedStateTable(ddb);
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
    services: [{ deployments: [{ status: 'PRIMARY', taskDefinition: td(input.services[0] ?? '', 1) }] }],
  }));
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: { containerDefinitions: [{ name: (input.taskDefinition.split('/').pop() ?? '').split(':')[0], image: 'previous' }] },
  }));
  await writeRelease(deps, record());
});

const finish = (input: Partial<Parameters<typeof recordReleaseOutcome.core>[0]>) =>
  recordReleaseOutcome.core({ executionId: EXECUTION, releaseId: 'release-9', outcome: 'FAILED', rollbacks: null, failure: null, ...input }, deps);

describe('record-release-outcome', () => {
  it('records a failed release with each rollback, the fleet after, and the audit record under release/<id>', async () => {
    const outcome = await finish({ rollbacks: [{ service: 'reference-data', status: 'ROLLED_BACK', executionArn: 'arn:rollback-1' }] });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'ServiceReleaseFailed' });
    expect(outcome.cause).toContain('reference-data ROLLED_BACK');
    const stored = await readRelease(deps, 'release-9');
    expect(stored).toMatchObject({
      status: 'FAILED',
      services: { 'reference-data': { status: 'ROLLED_BACK', rollbackExecutionArn: 'arn:rollback-1' }, 'market-data': { status: 'FAILED' } },
      fleetAfter: { 'reference-data': { taskDefinitionArn: td('reference-data', 1), image: 'previous' } },
    });
    expect(stored?.finishedAt).toBeDefined();
    const finished = auditRecords(ddb).find((r) => r.action === 'release.finished');
    expect(finished).toMatchObject({ subject: 'release/release-9', status: 'failed' });
    // Everything is back: nobody needs paging.
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('pages when a released service could not be rolled back', async () => {
    await finish({ rollbacks: [{ service: 'reference-data', status: 'ROLLBACK_FAILED', error: 'States.TaskFailed', cause: 'lock held' }] });
    expect((await readRelease(deps, 'release-9'))?.services['reference-data']?.status).toBe('RELEASED');
    const page = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(page?.Subject).toContain('release-9');
    expect(page?.Message).toContain('Not rolled back: reference-data');
  });

  it('a fleet rollback succeeds when every service went back', async () => {
    await writeRelease(deps, { ...record(), kind: 'rollback', rollbackOf: 'release-1', failure: undefined });
    const outcome = await finish({ rollbacks: [{ service: 'reference-data', status: 'ROLLED_BACK' }] });
    expect(outcome).toEqual({ releaseId: 'release-9', status: 'SUCCEEDED', error: '', cause: '' });
  });
});
