import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decideReleaseApproval } from '../../../functions/decide-release-approval/core';
import { ApprovalRefusedError } from '../../../functions/shared/runtime/errors';
import { type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail } from './builders';
import { SimulatedStateTable } from './simulated-state-table';
import { decideViaUrl, principal } from '../../support/approvals';

const NOW = new Date('2026-03-02T10:10:00.000Z');
const RELEASE_ID = 'push-order-gateway-3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b';
const DEPLOY_EXECUTION_ID = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-deploy:push-order-gateway-3f9a';
const KEY = `approval#${RELEASE_ID}`;

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let table: SimulatedStateTable;

const pendingApproval = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  pk: KEY,
  kind: 'release',
  approvalId: RELEASE_ID,
  requestedBy: principal('alice@example.com'),
  approvers: [principal('head-of-trading'), principal('chief-risk-officer')],
  deadline: '2026-03-02T11:00:00.000Z',
  status: 'pending',
  services: ['order-gateway'],
  deployExecutionId: DEPLOY_EXECUTION_ID,
  releaseId: RELEASE_ID,
  requestedAt: '2026-03-02T10:00:00.000Z',
  ...overrides,
});

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  table = new SimulatedStateTable(ddb);
  await table.put(pendingApproval());
});

afterEach(() => {
  vi.useRealTimers();
});

const decide = (approver: string, decision: 'approve' | 'reject' = 'approve', comment?: string) =>
  decideViaUrl(decideReleaseApproval, approver, { approvalId: RELEASE_ID, decision, ...(comment ? { comment } : {}) }, deps);

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApprovalRefusedError);
  return (error as Error).message;
}

describe('decide-release-approval', () => {
  it('records an approver’s approval on the release, audited under the release', async () => {
    expect(await decide(principal('head-of-trading'))).toMatchObject({ approvalId: RELEASE_ID, decision: 'approve', status: 'approved' });
    expect(await table.item(KEY)).toMatchObject({ status: 'approved', decidedBy: principal('head-of-trading'), decidedAt: NOW.toISOString() });
    expect(auditTrail(ddb)).toEqual(['release.approval.approve intent started', 'release.approval.approve outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({ subject: `release/${RELEASE_ID}`, actor: principal('head-of-trading'), executionId: DEPLOY_EXECUTION_ID });
  });

  it('records a rejection with its comment', async () => {
    await decide(principal('chief-risk-officer'), 'reject', 'not during the closing auction');
    expect(await table.item(KEY)).toMatchObject({ status: 'rejected', decidedBy: principal('chief-risk-officer'), comment: 'not during the closing auction' });
  });

  it('refuses the requester: a second person must approve', async () => {
    await table.put(pendingApproval({ approvers: [] }));
    expect(await refusal(decide(principal('alice@example.com')))).toBe(
      `${principal('alice@example.com')} asked for this release and cannot approve it: a second person must`,
    );
    expect((await table.item(KEY))?.status).toBe('pending');
    expect(auditRecords(ddb)).toMatchObject([{ action: 'release.approval.approve', status: 'failed', actor: principal('alice@example.com') }]);
  });

  it('refuses anyone not on the fleet’s approvers list', async () => {
    expect(await refusal(decide(principal('bob@example.com')))).toBe(
      `${principal('bob@example.com')} is not a release approver: head-of-trading, chief-risk-officer may approve (${principal('head-of-trading')}, ${principal('chief-risk-officer')})`,
    );
  });

  it('lets anyone but the requester decide when the fleet names no approvers', async () => {
    await table.put(pendingApproval({ approvers: [] }));
    await decide(principal('bob@example.com'));
    expect((await table.item(KEY))?.status).toBe('approved');
  });

  it('refuses a decision after the deadline, or on a decided or unknown approval', async () => {
    vi.setSystemTime(new Date('2026-03-02T11:00:00.000Z'));
    expect(await refusal(decide(principal('head-of-trading')))).toContain('passed its deadline 2026-03-02T11:00:00.000Z');
    vi.setSystemTime(NOW);
    await decide(principal('head-of-trading'));
    expect(await refusal(decide(principal('chief-risk-officer'), 'reject'))).toBe(
      `approval ${RELEASE_ID} was already approved by ${principal('head-of-trading')}`,
    );
    expect(
      await refusal(decideViaUrl(decideReleaseApproval, principal('head-of-trading'), { approvalId: 'release-nope', decision: 'approve' }, deps)),
    ).toContain('no release is waiting for approval release-nope');
  });

  it('does not decide a resume approval', async () => {
    await table.put({ pk: 'approval#resume-1', taskToken: 't', requestedBy: 'alice', status: 'pending', lapsesAt: '2026-03-02T11:00:00.000Z' });
    expect(await refusal(decideViaUrl(decideReleaseApproval, principal('head-of-trading'), { approvalId: 'resume-1', decision: 'approve' }, deps))).toContain(
      'no release is waiting',
    );
  });
});
