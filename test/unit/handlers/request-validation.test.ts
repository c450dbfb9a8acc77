/**
 * The one refusal path (functions/shared/domain/request-validation.ts), through
 * every workflow's first step: a refused request is recorded in the audit trail
 * (who asked, what about, the field and the reason) and thrown as the
 * workflow's named error; an accepted one records nothing extra.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { setHaltFlagHandler } from '../../../functions/set-halt-flag/core';
import { requesterOf } from '../../../functions/shared/domain/request-validation';
import type { HandlerDeps } from '../../../functions/shared/runtime/handler';
import { validateDeployRequest } from '../../../functions/validate-deploy-request/core';
import { validateResumeRequest } from '../../../functions/validate-resume-request/core';
import { validateRollbackRequest } from '../../../functions/validate-rollback-request/core';
import { validateRotationRequest } from '../../../functions/validate-rotation-request/core';
import { validateScaleRequest } from '../../../functions/validate-scale-request/core';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, REPOSITORY, auditWrites } from './builders';
import { FakeParameterStore, HALT_ID } from './halt-builders';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:prod/trading/admin-api-token-AbCdEf';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let secrets: AwsClientStub<SecretsManagerClient>;
let store: FakeParameterStore;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  store = new FakeParameterStore(mockClient(deps.clients.ssm));
  secrets = mockClient(deps.clients.secretsManager);
  secrets.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, VersionIdsToStages: { 'v-1': ['AWSCURRENT'] } });
});

interface WorkflowCase {
  readonly workflow: string;
  readonly error: string;
  readonly action: string;
  readonly run: (request: unknown, deps: HandlerDeps) => Promise<unknown>;
  readonly valid: Record<string, unknown>;
  /** What the accepted request records: its intent, or nothing (the scale workflow records its decision later). */
  readonly accepted: readonly string[];
  /** A request the schema accepts but the fleet (or the state of things) refuses. */
  readonly refused: { readonly request: Record<string, unknown>; readonly subject: string; readonly message: string };
  readonly before?: () => void;
}

const cases: readonly WorkflowCase[] = [
  {
    workflow: 'deploy',
    error: 'InvalidDeployRequestError',
    action: 'deploy',
    run: (request, d) => validateDeployRequest.core({ executionId: EXECUTION_ID, request }, d),
    valid: { service: 'order-gateway', image: `${REPOSITORY}:2.4.0`, requestedBy: 'alice@example.com' },
    accepted: ['deploy intent started'],
    refused: {
      request: { service: 'order-gateway', image: 'elsewhere/order-gateway:2.4.0', requestedBy: 'alice@example.com' },
      subject: 'order-gateway',
      message: `Invalid deploy request: image: must come from ${REPOSITORY}, got elsewhere/order-gateway`,
    },
  },
  {
    workflow: 'rollback',
    error: 'InvalidRollbackRequestError',
    action: 'rollback',
    run: (request, d) => validateRollbackRequest.core({ executionId: EXECUTION_ID, request }, d),
    valid: { service: 'order-gateway', reason: 'error rate after 2.4.0', requestedBy: 'alice@example.com' },
    accepted: ['rollback intent started'],
    refused: {
      request: { service: 'options-pricer', reason: 'x', requestedBy: 'alice@example.com' },
      subject: 'fleet',
      message: 'Invalid rollback request: service: options-pricer is not in the prod fleet (known: ',
    },
  },
  {
    workflow: 'halt',
    error: 'InvalidHaltRequestError',
    action: 'halt',
    run: (request, d) => setHaltFlagHandler.core({ executionId: EXECUTION_ID, request }, d),
    valid: { reason: 'loss limit', actor: 'alice@example.com' },
    accepted: ['halt intent started'],
    refused: {
      request: { reason: 'loss limit', actor: 'alice@example.com', services: ['web-gui'] },
      subject: 'fleet',
      message: 'Invalid halt request: services: web-gui is not a trading service',
    },
  },
  {
    workflow: 'resume',
    error: 'InvalidResumeRequestError',
    action: 'resume',
    run: (request, d) => validateResumeRequest.core({ executionId: EXECUTION_ID, request }, d),
    valid: { requestedBy: 'alice@example.com', reason: 'loss limit reset' },
    accepted: ['resume intent started'],
    refused: {
      request: { requestedBy: 'alice@example.com', reason: 'loss limit reset', haltId: 'halt-other' },
      subject: 'fleet',
      message: `Invalid resume request: haltId: halt-other is not the halt in force (${HALT_ID})`,
    },
    before: () => {
      store.value = JSON.stringify({ halted: true, haltId: HALT_ID, reason: 'loss limit', source: 'cli', actor: 'bob', at: '2025-07-05T12:00:00.000Z' });
    },
  },
  {
    workflow: 'rotate-secret',
    error: 'InvalidRotationRequestError',
    action: 'secret.rotate',
    run: (request, d) => validateRotationRequest.core({ executionId: EXECUTION_ID, request }, d),
    valid: { secret: 'admin-api-token', requestedBy: 'alice@example.com' },
    accepted: ['secret.rotate intent started'],
    refused: {
      request: { secret: 'admin-api-token', requestedBy: 'alice@example.com', source: 'rotation-event', rotatedVersionId: 'v-0' },
      subject: 'secret:admin-api-token',
      message: 'Invalid rotation request: rotatedVersionId: v-0 is not the AWSCURRENT version of prod/trading/admin-api-token',
    },
  },
  {
    workflow: 'scale',
    error: 'InvalidScaleRequestError',
    action: 'scale',
    run: (request, d) => validateScaleRequest.core({ executionId: EXECUTION_ID, request }, d),
    valid: { service: 'order-gateway', desiredCount: 6, requestedBy: 'alice@example.com' },
    accepted: [],
    refused: {
      request: { service: 'web-gui', desiredCount: 2, requestedBy: 'alice@example.com' },
      subject: 'web-gui',
      message: 'Invalid scale request: service: web-gui has no scaling policy in the fleet file',
    },
  },
];

describe.each(cases)('$workflow: the first step', ({ error, action, run, valid, accepted, refused, before }) => {
  beforeEach(() => before?.());

  const refusal = async (request: unknown): Promise<Error> => {
    const thrown = await run(request, deps).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe(error);
    return thrown as Error;
  };

  it(`records a malformed request's refusal against the fleet and throws ${error} naming the field`, async () => {
    const thrown = await refusal({ ...valid, unexpected: true });

    expect(thrown.message).toMatch(/^Invalid [a-z]+ request: .*Unrecognized key.*"unexpected"/);
    expect(auditWrites(ddb)).toHaveLength(1);
    expect(auditRecords(ddb)).toEqual([
      expect.objectContaining({
        action,
        subject: 'fleet',
        actor: 'alice@example.com',
        source: 'step-functions',
        executionId: EXECUTION_ID,
        phase: 'outcome',
        status: 'failed',
        error: { name: error, message: thrown.message },
      }),
    ]);
  });

  it('records a refusal by the fleet against what the request is about', async () => {
    const thrown = await refusal(refused.request);

    expect(thrown.message).toContain(refused.message);
    expect(auditRecords(ddb)).toEqual([
      expect.objectContaining({
        action,
        subject: refused.subject,
        actor: 'alice@example.com',
        phase: 'outcome',
        status: 'failed',
        error: { name: error, message: thrown.message },
      }),
    ]);
  });

  it('keeps the refused error as the cause of a schema refusal', async () => {
    const thrown = await refusal('not a request');

    expect(thrown.message).toMatch(/^Invalid [a-z]+ request: \(input\): /);
    expect(thrown.cause).toMatchObject({ name: 'ZodError' });
    expect(auditRecords(ddb)[0]?.actor).toBe('unknown');
  });

  it('records nothing extra for a valid request', async () => {
    await run(valid, deps);

    expect(auditTrail(ddb)).toEqual(accepted);
    expect(auditRecords(ddb).some((r) => r.status === 'failed')).toBe(false);
  });
});

describe.each(cases.filter((c) => typeof c.valid.service === 'string'))('$workflow: a service name the fleet does not have', ({ run, valid, error }) => {
  it.each(['constructor', 'toString', 'no-such-service'])('refuses %s, listing the known services', async (service) => {
    const thrown = await run({ ...valid, service }, deps).catch((e: unknown) => e);

    expect(thrown).toMatchObject({ name: error });
    expect((thrown as Error).message).toContain(`service: ${service} is not in the prod fleet (known: `);
  });
});

describe('requesterOf: who asked, from a request that may be malformed', () => {
  it.each([
    ['requestedBy', { requestedBy: 'alice' }, 'alice'],
    ["a halt's actor", { actor: 'assure' }, 'assure'],
    ['requestedBy over actor', { requestedBy: 'alice', actor: 'bob' }, 'alice'],
    ['actor when requestedBy is empty', { requestedBy: '', actor: 'bob' }, 'bob'],
    ['unknown for a requester that is not a string', { requestedBy: 42 }, 'unknown'],
    ['unknown for a request that is not an object', 'deploy please', 'unknown'],
    ['unknown for null', null, 'unknown'],
    ['the first 128 characters of a longer one', { requestedBy: 'a'.repeat(300) }, 'a'.repeat(128)],
  ])('%s', (_case, request, expected) => {
    expect(requesterOf(request)).toBe(expected);
  });
});
