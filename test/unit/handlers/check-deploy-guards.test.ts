import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkDeployGuards } from '../../../functions/check-deploy-guards/core';
import { DeploymentInProgressError, DeployWindowClosedError, ServiceStateError, TradingHaltedError } from '../../../functions/shared/runtime/errors';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import {
  auditRecords,
  auditTrail,
  buildDeployment,
  buildPlan,
  buildService,
  NEW_REVISION_ARN,
  PREVIOUS_REVISION_ARN,
  SERVICE_ARN,
  stubDescribeServices,
} from './builders';

/** A Saturday: inside the example fleet's weekend window. */
const SATURDAY_NOON = '2025-07-05T12:00:00.000Z';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ssm: AwsClientStub<SSMClient>;
let ecs: AwsClientStub<ECSClient>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(SATURDAY_NOON));
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ssm = mockClient(deps.clients.ssm);
  ecs = mockClient(deps.clients.ecs);
  ddb.on(PutItemCommand).resolves({});
  setHaltFlag({ halted: false });
  stubDescribeServices(ecs, buildService([buildDeployment()]));
});

afterEach(() => {
  vi.useRealTimers();
});

function setHaltFlag(value: unknown): void {
  ssm
    .on(GetParameterCommand, { Name: '/assure/prod/halt' })
    .resolves({ Parameter: { Name: '/assure/prod/halt', Type: 'String', Value: JSON.stringify(value) } });
}

const check = () => checkDeployGuards.core({ executionId: EXECUTION_ID, plan: buildPlan() }, deps);

describe('check-deploy-guards: a service at rest, trading open, inside a window', () => {
  it('returns the service and its current revision as the rollback target', async () => {
    stubDescribeServices(ecs, buildService([buildDeployment({ taskDefinition: PREVIOUS_REVISION_ARN })], { desiredCount: 6 }));

    await expect(check()).resolves.toEqual({
      serviceArn: SERVICE_ARN,
      deploymentId: 'ecs-svc/1111111111111111111',
      previousTaskDefinitionArn: PREVIOUS_REVISION_ARN,
      desiredCount: 6,
    });

    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/assure/prod/halt' });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: ['order-gateway'] });
  });

  it('writes intent and outcome records with the baseline', async () => {
    await check();

    expect(auditTrail(ddb)).toEqual(['deploy.check-guards intent started', 'deploy.check-guards outcome succeeded']);
    expect(auditRecords(ddb)[1]?.after).toEqual({
      serviceArn: SERVICE_ARN,
      deploymentId: 'ecs-svc/1111111111111111111',
      previousTaskDefinitionArn: PREVIOUS_REVISION_ARN,
      desiredCount: 4,
    });
  });

  it('treats a halt flag that was never written (ParameterNotFound) as not halted', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter /assure/prod/halt not found.', $metadata: {} }));

    await expect(check()).resolves.toMatchObject({ previousTaskDefinitionArn: PREVIOUS_REVISION_ARN });
  });
});

describe('check-deploy-guards: trading halt', () => {
  it('refuses while trading is halted, naming the halt and its reason', async () => {
    setHaltFlag({ halted: true, haltId: 'halt-20250705-01', actor: 'risk-desk', reason: 'exchange connectivity incident' });

    const error = await check().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TradingHaltedError);
    expect((error as Error).message).toContain('halt-20250705-01');
    expect((error as Error).message).toContain('exchange connectivity incident');
    expect(ecs).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['not JSON', 'HALTED'],
    ['JSON of the wrong shape', '{"halted":"yes"}'],
    ['JSON without the halted field', '{"haltId":"halt-1"}'],
  ])('fails closed when the flag is %s', async (_case, value) => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/assure/prod/halt', Value: value } });

    const error = await check().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TradingHaltedError);
    expect((error as Error).message).toMatch(/halt flag cannot be read \(\/assure\/prod\/halt .*\); failing closed/);
    expect(ecs).not.toHaveReceivedAnyCommand();
  });

  it('fails closed when the parameter has no value', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/assure/prod/halt' } });

    await expect(check()).rejects.toThrow(TradingHaltedError);
  });

  it('does not treat a failure to read the flag as "not halted"', async () => {
    const denied = Object.assign(new Error('not authorized to perform ssm:GetParameter'), { name: 'AccessDeniedException', $metadata: {} });
    ssm.on(GetParameterCommand).rejects(denied);

    await expect(check()).rejects.toBe(denied);
    expect(ecs).not.toHaveReceivedAnyCommand();
  });

  it('records the refusal as a failed outcome', async () => {
    setHaltFlag({ halted: true, haltId: 'halt-1', reason: 'incident' });

    await expect(check()).rejects.toThrow(TradingHaltedError);

    expect(auditTrail(ddb)).toEqual(['deploy.check-guards intent started', 'deploy.check-guards outcome failed']);
    expect(auditRecords(ddb)[1]?.error).toMatchObject({ name: 'TradingHaltedError' });
  });
});

describe('check-deploy-guards: deploy windows (examples/trading-fleet.yaml, Europe/London)', () => {
  it.each([
    ['Saturday midday', '2025-07-05T12:00:00.000Z'],
    ['Sunday just after midnight', '2025-07-05T23:30:00.000Z'],
    ['a summer weekday at 05:30 BST (04:30 UTC)', '2025-07-02T04:30:00.000Z'],
    ['a winter weekday at 05:30 GMT', '2025-01-15T05:30:00.000Z'],
    ['a weekday after the close at 16:45', '2025-07-02T15:45:00.000Z'],
  ])('allows a deploy on %s', async (_case, at) => {
    vi.setSystemTime(new Date(at));

    await expect(check()).resolves.toMatchObject({ serviceArn: SERVICE_ARN });
  });

  it.each([
    ['a weekday during market hours', '2025-07-02T11:00:00.000Z'],
    ['a summer weekday at 04:30 BST (03:30 UTC)', '2025-07-02T03:30:00.000Z'],
    ['a weekday at 07:45, when the morning window ends', '2025-07-02T06:45:00.000Z'],
    ['a weekday at 22:00, when the evening window ends', '2025-07-02T21:00:00.000Z'],
  ])('refuses a deploy on %s', async (_case, at) => {
    vi.setSystemTime(new Date(at));

    const error = await check().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeployWindowClosedError);
    expect((error as Error).message).toBe(
      `Deploy refused: ${at} is outside every deploy window (MON,TUE,WED,THU,FRI 05:00-07:45 Europe/London; MON,TUE,WED,THU,FRI 16:45-22:00 Europe/London; SAT,SUN 00:00-23:59 Europe/London)`,
    );
    expect(ecs).not.toHaveReceivedAnyCommand();
  });

  it('allows any time when the fleet has no windows', async () => {
    vi.setSystemTime(new Date('2025-07-02T11:00:00.000Z'));
    deps = { ...deps, fleet: { ...deps.fleet, deploy: { ...deps.fleet.deploy, windows: undefined } } };

    await expect(check()).resolves.toMatchObject({ serviceArn: SERVICE_ARN });
  });
});

describe('check-deploy-guards: the service must be at rest', () => {
  it('refuses while a second deployment is running', async () => {
    stubDescribeServices(
      ecs,
      buildService([
        buildDeployment({ id: 'ecs-svc/3333333333333333333', taskDefinition: NEW_REVISION_ARN, rolloutState: 'IN_PROGRESS' }),
        buildDeployment({ status: 'ACTIVE' }),
      ]),
    );

    const error = await check().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeploymentInProgressError);
    expect((error as Error).message).toContain('deployment ecs-svc/3333333333333333333, IN_PROGRESS, 2 deployments');
  });

  it('refuses while the only deployment is still IN_PROGRESS', async () => {
    stubDescribeServices(ecs, buildService([buildDeployment({ rolloutState: 'IN_PROGRESS' })]));

    await expect(check()).rejects.toThrow(DeploymentInProgressError);
  });

  it('refuses when the last rollout FAILED', async () => {
    stubDescribeServices(ecs, buildService([buildDeployment({ rolloutState: 'FAILED' })]));

    await expect(check()).rejects.toThrow(DeploymentInProgressError);
  });

  it('refuses a service ECS does not know (failures: MISSING) with ServiceStateError', async () => {
    stubDescribeServices(ecs);

    const error = await check().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceStateError);
    expect((error as Error).message).toBe('ECS service order-gateway in cluster trading-prod cannot be deployed: MISSING');
  });

  it('refuses a service that is being deleted', async () => {
    stubDescribeServices(ecs, buildService([buildDeployment()], { status: 'DRAINING' }));

    await expect(check()).rejects.toThrow(/cannot be deployed: DRAINING/);
  });
});
