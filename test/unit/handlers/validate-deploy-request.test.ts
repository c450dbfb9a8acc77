import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidDeployRequestError } from '../../../functions/shared/runtime/errors';
import { validateDeployRequest } from '../../../functions/validate-deploy-request/core';
import type { Fleet } from '../../../lib/fleet/fleet';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, REPOSITORY, nonAuditCalls, auditWrites } from './builders';

const MARKET_DATA_REPOSITORY = '111122223333.dkr.ecr.eu-west-2.amazonaws.com/market-data';
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

const goodRequest = {
  service: 'order-gateway',
  image: `${REPOSITORY}:2.4.0`,
  requestedBy: 'alice@example.com',
  reason: 'release 2.4.0',
};

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
});

const validate = (request: unknown) => validateDeployRequest.core({ executionId: EXECUTION_ID, request }, deps);

/** The example fleet with order-gateway's entry changed. */
function withOrderGateway(change: (service: Fleet['services'][string]) => Fleet['services'][string]): Fleet {
  const service = deps.fleet.services['order-gateway'];
  if (!service) throw new Error('the example fleet has no order-gateway');
  return { ...deps.fleet, services: { ...deps.fleet.services, 'order-gateway': change(service) } };
}

/** ECS's rolling defaults: what order-gateway did before it became a canary. */
const ROLLING = { type: 'rolling', maximumPercent: 200, minimumHealthyPercent: 100 } as const;

describe('validate-deploy-request: a good request', () => {
  it('resolves the plan from the fleet file', async () => {
    deps = { ...deps, fleet: withOrderGateway((s) => ({ ...s, strategy: ROLLING })) };
    const state = await validate(goodRequest);

    // examples/trading-fleet.yaml: cluster trading-prod, soakMinutes 5, progressDeadlineMinutes 20,
    // order-gateway has two rollback alarms, an HTTP check on :8080/health/deep and a 30 s grace period.
    expect(state.plan).toEqual({
      service: 'order-gateway',
      cluster: 'trading-prod',
      ecsServiceName: 'order-gateway',
      container: 'order-gateway',
      image: `${REPOSITORY}:2.4.0`,
      requestedBy: 'alice@example.com',
      reason: 'release 2.4.0',
      rollbackAlarmNames: ['prod-order-gateway-error-rate', 'prod-order-gateway-latency-p99'],
      healthCheck: { http: { path: '/health/deep', port: 8080, timeoutMs: 2000 } },
      rolling: { maximumPercent: 200, minimumHealthyPercent: 100, healthCheckGracePeriodSeconds: 30 },
      strategy: { type: 'rolling', maximumPercent: 200, minimumHealthyPercent: 100 },
      // order-gateway names its traffic shift even while it rolls.
      trafficShift: deps.fleet.services['order-gateway']?.trafficShift,
      progressDeadlineSeconds: 20 * 60,
      // Rolling: ECS's outcome within the progress deadline.
      outcomeDeadlineSeconds: 20 * 60,
      soakSeconds: 5 * 60,
      releaseId: null,
      // Two deadlines (rollout and rollback), the soak, and 15 minutes for the checks around them.
      lockLeaseSeconds: 2 * 20 * 60 + 5 * 60 + 15 * 60,
    });
  });

  it('accepts a canary service and plans its strategy, traffic shift and the time the judge may take', async () => {
    deps = { ...deps, fleet: withOrderGateway((s) => ({ ...s, strategy: { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 } })) };

    const { plan } = await validate(goodRequest);

    // The example fleet's judge gives up on an inconclusive stage after 15 minutes; releases need no approval.
    // Canary: the 20-minute deadline, a 10-minute canary bake and a 10-minute final bake; four judged stages
    // (after test traffic, the canary step, the full shift, after it).
    expect(plan).toMatchObject({
      strategy: { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 },
      trafficShift: { roleName: 'ecs-infrastructure-load-balancers', containerPort: 8080 },
      progressDeadlineSeconds: (20 + 10 + 10) * 60,
      outcomeDeadlineSeconds: (20 + 10 + 10 + 4 * 15) * 60,
      lockLeaseSeconds: (20 + 10 + 10 + 4 * 15) * 60 + (20 + 10 + 10) * 60 + 5 * 60 + 15 * 60,
    });
  });

  it.each([
    ['blue-green', { type: 'blue-green', bakeTimeMinutes: 10 }],
    ['linear', { type: 'linear', stepPercent: 20, stepBakeTimeMinutes: 6 }],
  ] as const)('accepts a %s service', async (_type, strategy) => {
    deps = { ...deps, fleet: withOrderGateway((s) => ({ ...s, strategy })) };

    await expect(validate(goodRequest)).resolves.toMatchObject({ plan: { strategy } });
  });

  it('carries the release id into the plan and the intent record', async () => {
    const releaseId = `push-order-gateway-${'0123456789abcdef'.repeat(2)}01234567`;

    const { plan } = await validate({ ...goodRequest, image: `${REPOSITORY}@${DIGEST}`, releaseId });

    expect(plan.releaseId).toBe(releaseId);
    expect(auditRecords(ddb)[0]).toMatchObject({ action: 'deploy', phase: 'intent', releaseId });
  });

  it('computes the timings from the fleet deploy settings, not constants', async () => {
    deps = { ...deps, fleet: withOrderGateway((s) => ({ ...s, strategy: ROLLING })) };
    deps = { ...deps, fleet: { ...deps.fleet, deploy: { ...deps.fleet.deploy, soakMinutes: 2.5, progressDeadlineMinutes: 7 } } };

    const { plan } = await validate(goodRequest);

    expect(plan).toMatchObject({ soakSeconds: 150, progressDeadlineSeconds: 420, lockLeaseSeconds: 2 * 420 + 150 + 900 });
  });

  it('takes the ECS service and container names from the fleet entry', async () => {
    deps = { ...deps, fleet: withOrderGateway((s) => ({ ...s, ecsServiceName: 'og-prod-v2', container: 'app' })) };

    const { plan } = await validate(goodRequest);

    expect(plan).toMatchObject({ service: 'order-gateway', ecsServiceName: 'og-prod-v2', container: 'app' });
  });

  it('returns the request and a null slot for every later step', async () => {
    const state = await validate(goodRequest);

    expect(state.request).toEqual(goodRequest);
    expect(state).toMatchObject({ baseline: null, revision: null, rollout: null, failure: null, rollback: null, rollbackFailure: null });
    expect(Object.keys(state).sort()).toEqual(['baseline', 'failure', 'plan', 'request', 'revision', 'rollback', 'rollbackFailure', 'rollout']);
  });

  it('defaults the reason to the image being deployed', async () => {
    const { plan } = await validate({ ...goodRequest, reason: undefined });

    expect(plan.reason).toBe(`deploy ${REPOSITORY}:2.4.0`);
  });

  it('accepts an image by digest', async () => {
    const { plan } = await validate({ ...goodRequest, image: `${REPOSITORY}@${DIGEST}` });

    expect(plan.image).toBe(`${REPOSITORY}@${DIGEST}`);
  });

  it('writes the deploy intent record to the audit trail', async () => {
    await validate(goodRequest);

    expect(auditRecords(ddb)).toEqual([
      expect.objectContaining({
        action: 'deploy',
        subject: 'order-gateway',
        actor: 'alice@example.com',
        executionId: EXECUTION_ID,
        reason: 'release 2.4.0',
        phase: 'intent',
        status: 'started',
        pk: 'subject#order-gateway',
      }),
    ]);
  });
});

describe('validate-deploy-request: rejections', () => {
  it.each([
    ['an unknown key (the request schema is strict)', { ...goodRequest, force: true }, /Invalid deploy request: .*Unrecognized key.*"force"/],
    ['a missing requestedBy', { service: 'order-gateway', image: goodRequest.image }, /requestedBy: /],
    ['an empty requestedBy', { ...goodRequest, requestedBy: '' }, /requestedBy: is required/],
    ['a missing image', { service: 'order-gateway', requestedBy: 'alice' }, /image: /],
    ['a request that is not an object', 'deploy order-gateway please', /\(input\): /],
    [
      'an image from another repository',
      { ...goodRequest, image: `${MARKET_DATA_REPOSITORY}:2.4.0` },
      new RegExp(`image: must come from ${REPOSITORY}, got ${MARKET_DATA_REPOSITORY}$`),
    ],
    ['an image without a tag', { ...goodRequest, image: REPOSITORY }, /image: must be <repository>:<tag> or <repository>@sha256:<digest>/],
    ['a tag starting with a dash', { ...goodRequest, image: `${REPOSITORY}:-rc1` }, /image: must be <repository>:<tag>/],
    ['a tag with a space', { ...goodRequest, image: `${REPOSITORY}:2.4 final` }, /image: must be <repository>:<tag>/],
    ['an empty tag', { ...goodRequest, image: `${REPOSITORY}:` }, /image: must be <repository>:<tag>/],
    ['a tag longer than 128 characters', { ...goodRequest, image: `${REPOSITORY}:${'a'.repeat(129)}` }, /image: must be <repository>:<tag>/],
    ['a registry port mistaken for a tag', { ...goodRequest, image: 'registry.local:5000/order-gateway' }, /image: must be <repository>:<tag>/],
    ['a short digest', { ...goodRequest, image: `${REPOSITORY}@sha256:abc123` }, /image: must be <repository>:<tag>/],
    [
      'an upper-case digest',
      { ...goodRequest, image: `${REPOSITORY}@${DIGEST.toUpperCase().replace('SHA256', 'sha256')}` },
      /image: must be <repository>:<tag>/,
    ],
    ['a digest of another algorithm', { ...goodRequest, image: `${REPOSITORY}@sha512:${'ab'.repeat(64)}` }, /image: must be <repository>:<tag>/],
    [
      'a digest from another repository',
      { ...goodRequest, image: `${MARKET_DATA_REPOSITORY}@${DIGEST}` },
      new RegExp(`image: must come from ${REPOSITORY}, got ${MARKET_DATA_REPOSITORY}$`),
    ],
    ['a release id with a space', { ...goodRequest, releaseId: 'release 42' }, /releaseId: must be a release id/],
    ['a release id longer than an execution name', { ...goodRequest, releaseId: 'r'.repeat(81) }, /releaseId: must be a release id/],
  ])('rejects %s with InvalidDeployRequestError naming the field', async (_case, request, message) => {
    const error = await validate(request).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidDeployRequestError);
    expect(error).toMatchObject({ name: 'InvalidDeployRequestError', message: expect.stringMatching(message) });
  });

  it('rejects an unknown service and lists the services the fleet has', async () => {
    const error = await validate({ ...goodRequest, service: 'order-gatewey' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidDeployRequestError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Invalid deploy request: service: order-gatewey is not in the prod fleet \(known: /);
    for (const known of ['reference-data', 'market-data', 'trade-service', 'position-service', 'risk-engine', 'order-gateway', 'web-gui']) {
      expect(message).toContain(known);
    }
  });

  it('records the rejection in the audit trail and makes no other call', async () => {
    await expect(validate({ ...goodRequest, image: `${MARKET_DATA_REPOSITORY}:2.4.0` })).rejects.toThrow(InvalidDeployRequestError);

    expect(nonAuditCalls(ddb)).toEqual([]);
    expect(auditWrites(ddb)).toHaveLength(1);
    const [record] = auditRecords(ddb);
    expect(record).toMatchObject({
      action: 'deploy',
      subject: 'order-gateway',
      actor: 'alice@example.com',
      executionId: EXECUTION_ID,
      phase: 'outcome',
      status: 'failed',
      error: { name: 'InvalidDeployRequestError', message: expect.stringContaining(`got ${MARKET_DATA_REPOSITORY}`) },
    });
  });

  it('records a malformed request against the fleet, with the requester when it is known', async () => {
    await expect(validate({ image: goodRequest.image, requestedBy: 'bob' })).rejects.toThrow(/service: /);
    await expect(validate({ service: 'order-gateway' })).rejects.toThrow(/requestedBy: /);

    expect(auditRecords(ddb).map((r) => [r.subject, r.actor, r.status])).toEqual([
      ['fleet', 'bob', 'failed'],
      ['fleet', 'unknown', 'failed'],
    ]);
  });
});
