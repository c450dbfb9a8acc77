import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidResumeRequestError } from '../../../functions/shared/runtime/errors';
import { validateResumeRequest } from '../../../functions/validate-resume-request/core';
import { type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, nonAuditCalls } from './builders';
import { APPROVAL_ID, FakeParameterStore, HALT_ID, RESUME_EXECUTION_ID, TRADING_SERVICES } from './halt-builders';
import { principal } from '../../support/approvals';

const request = { requestedBy: principal('alice@example.com'), reason: 'loss limit reset by risk; venue connectivity confirmed' };
const haltInForce = {
  halted: true,
  haltId: HALT_ID,
  reason: 'prod-daily-loss-limit in ALARM',
  source: 'alarm:prod-daily-loss-limit',
  actor: 'assure',
  at: '2025-07-05T12:20:01.000Z',
};

let deps: TestDeps;
let ssm: AwsClientStub<SSMClient>;
let ddb: AwsClientStub<DynamoDBClient>;
let store: FakeParameterStore;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2025-07-05T13:00:00.000Z'));
  deps = testDeps();
  ssm = mockClient(deps.clients.ssm);
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  store = new FakeParameterStore(ssm, haltInForce);
});

afterEach(() => {
  vi.useRealTimers();
});

const validate = (body: unknown) => validateResumeRequest.core({ executionId: RESUME_EXECUTION_ID, request: body }, deps);

/** A refused request: the named error, and the refusal as the one write (an audit record; the flag untouched). */
async function refusal(body: unknown): Promise<Error> {
  const error = await validate(body).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidResumeRequestError);
  expect(error).toMatchObject({ name: 'InvalidResumeRequestError' });
  expect(nonAuditCalls(ddb)).toEqual([]);
  expect(auditRecords(ddb)).toEqual([
    expect.objectContaining({
      action: 'resume',
      subject: 'fleet',
      executionId: RESUME_EXECUTION_ID,
      phase: 'outcome',
      status: 'failed',
      error: { name: 'InvalidResumeRequestError', message: (error as Error).message },
    }),
  ]);
  expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  return error as Error;
}

describe('validate-resume-request: a halt in force', () => {
  it('resumes from the halt in force, with the approval rules of the fleet file', async () => {
    await expect(validate(request)).resolves.toEqual({
      request,
      resume: {
        haltId: HALT_ID,
        requestedBy: principal('alice@example.com'),
        reason: request.reason,
        services: [...TRADING_SERVICES],
        approvalId: APPROVAL_ID,
        // examples/trading-fleet.yaml: resumeTimeoutMinutes 30; resumeApprovers chief-risk-officer, head-of-trading.
        approvalTimeoutSeconds: 1800,
        approvers: [principal('chief-risk-officer'), principal('head-of-trading')],
      },
      approval: null,
      readiness: null,
      restored: null,
      failure: null,
    });
  });

  it('resumes only the services the halt covered', async () => {
    store.value = JSON.stringify({ ...haltInForce, services: ['order-gateway'] });

    const { resume } = await validate(request);

    expect(resume.services).toEqual(['order-gateway']);
  });

  it('accepts a request that names the halt in force', async () => {
    await expect(validate({ ...request, haltId: HALT_ID })).resolves.toMatchObject({ resume: { haltId: HALT_ID } });
  });

  it('leaves the approvers null when the fleet names none: anyone but the requester may approve', async () => {
    deps = { ...deps, fleet: { ...deps.fleet, approvals: { ...deps.fleet.approvals, resumeTimeoutMinutes: 2.5, resumeApprovers: undefined } } };

    const { resume } = await validate(request);

    expect(resume).toMatchObject({ approvers: null, approvalTimeoutSeconds: 150 });
  });

  it('records the resume intent against the halt, and does not touch the flag', async () => {
    await validate(request);

    expect(auditTrail(ddb)).toEqual(['resume intent started']);
    expect(auditRecords(ddb)[0]).toMatchObject({
      pk: 'subject#fleet',
      action: 'resume',
      actor: principal('alice@example.com'),
      source: 'step-functions',
      executionId: RESUME_EXECUTION_ID,
      reason: request.reason,
      before: { haltId: HALT_ID },
    });
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });
});

describe('validate-resume-request: nothing to resume', () => {
  it('refuses when the flag was never set', async () => {
    store.value = undefined;

    const error = await refusal(request);

    expect(error.message).toBe('Invalid resume request: Trading is not halted: there is nothing to resume');
    expect(auditRecords(ddb)[0]?.actor).toBe(principal('alice@example.com'));
  });

  it('refuses when the flag was cleared', async () => {
    store.value = JSON.stringify({ halted: false, lastHaltId: HALT_ID });

    expect((await refusal(request)).message).toBe('Invalid resume request: Trading is not halted: there is nothing to resume');
  });

  it('refuses a halted flag without a halt id', async () => {
    store.value = JSON.stringify({ halted: true, reason: 'set by hand' });

    expect((await refusal(request)).message).toBe('Invalid resume request: Trading is not halted: there is nothing to resume');
  });

  it('refuses a request naming another halt than the one in force', async () => {
    const error = await refusal({ ...request, haltId: 'halt-20250704-aaaa0000' });

    expect(error.message).toBe(`Invalid resume request: haltId: halt-20250704-aaaa0000 is not the halt in force (${HALT_ID})`);
  });

  it('refuses while the flag cannot be read, and leaves it as it is', async () => {
    store.value = 'halted';

    const error = await refusal(request);

    expect(error.message).toBe(
      'Invalid resume request: The halt flag cannot be read (/assure/prod/halt is not JSON): nothing can be resumed until it is repaired',
    );
  });
});

describe('validate-resume-request: a malformed request', () => {
  it.each([
    ['requestedBy missing', { reason: 'x' }, /^Invalid resume request: requestedBy: /],
    ['requestedBy empty', { ...request, requestedBy: '' }, /^Invalid resume request: requestedBy: is required$/],
    ['reason empty', { ...request, reason: '' }, /^Invalid resume request: reason: is required$/],
    ['reason too long', { ...request, reason: 'x'.repeat(501) }, /^Invalid resume request: reason: /],
    ['an empty halt id', { ...request, haltId: '' }, /^Invalid resume request: haltId: /],
    ['an unknown field', { ...request, approver: 'bob' }, /^Invalid resume request: .*"approver"/],
    ['not an object', null, /^Invalid resume request: \(input\): /],
  ])('refuses %s, naming the field, before reading the flag', async (_case, body, message) => {
    const error = await refusal(body);

    expect(error.message).toMatch(message);
    expect(ssm).not.toHaveReceivedAnyCommand();
  });
});
