import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { createHash } from 'node:crypto';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decideResumeApproval } from '../../../functions/decide-resume-approval/core';
import { ApprovalRefusedError, InvalidInputError } from '../../../functions/shared/runtime/errors';
import { parseInput } from '../../../functions/shared/runtime/handler';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail } from './builders';
import { decideViaUrl, principal } from '../../support/approvals';
import { APPROVAL_ID, HALT_ID, RESUME_EXECUTION_ID } from './halt-builders';

const NOW = new Date('2025-07-05T13:05:00.000Z');
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAresume-approval-token';
const KEY = `approval#${APPROVAL_ID}`;

/**
 * The approval items of the state table: GetItem, and the decision's UpdateItem with its
 * `#status = :pending` condition evaluated against the stored item, as DynamoDB would.
 */
class FakeApprovalTable {
  readonly items = new Map<string, Record<string, AttributeValue>>();

  constructor(ddb: AwsClientStub<DynamoDBClient>) {
    ddb.on(GetItemCommand, { TableName: testConfig.stateTableName }).callsFake((input: GetItemCommandInput) => {
      const item = this.items.get(input.Key?.pk?.S ?? '');
      return item ? { Item: { ...item } } : {};
    });
    ddb.on(UpdateItemCommand, { TableName: testConfig.stateTableName }).callsFake((input: UpdateItemCommandInput) => this.update(input));
  }

  put(item: Record<string, unknown>): void {
    this.items.set(String(item.pk), marshall(item));
  }

  item(pk = KEY): Record<string, unknown> | undefined {
    const item = this.items.get(pk);
    return item ? unmarshall(item) : undefined;
  }

  private update(input: UpdateItemCommandInput): Record<string, never> {
    const pk = input.Key?.pk?.S ?? '';
    const values = unmarshall(input.ExpressionAttributeValues ?? {});
    const current = this.item(pk);
    if (input.ConditionExpression !== '#status = :pending' || input.ExpressionAttributeNames?.['#status'] !== 'status') {
      throw new Error(`FakeApprovalTable does not model ${input.ConditionExpression ?? '(no condition)'}`);
    }
    if (!current || current.status !== values[':pending']) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    if (input.UpdateExpression !== 'SET #status = :decided, decidedBy = :approver, decidedAt = :at')
      throw new Error(`unexpected update ${input.UpdateExpression ?? ''}`);
    this.put({ ...current, status: values[':decided'], decidedBy: values[':approver'], decidedAt: values[':at'] });
    return {};
  }
}

const pendingApproval = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  pk: KEY,
  taskTokenHash: createHash('sha256').update(TASK_TOKEN).digest('hex'),
  taskTokenCiphertext: Buffer.from('sealed').toString('base64'),
  executionId: RESUME_EXECUTION_ID,
  haltId: HALT_ID,
  requestedBy: principal('alice@example.com'),
  reason: 'loss limit reset by risk',
  approvers: [principal('chief-risk-officer'), principal('head-of-trading')],
  status: 'pending',
  requestedAt: '2025-07-05T13:00:00.000Z',
  lapsesAt: '2025-07-05T13:30:00.000Z',
  expiresAt: 1752327000,
  ...overrides,
});

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let kms: AwsClientStub<KMSClient>;
let table: FakeApprovalTable;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  sfn = mockClient(deps.clients.sfn);
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  kms = mockClient(deps.clients.kms);
  kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from(TASK_TOKEN, 'utf8') });
  table = new FakeApprovalTable(ddb);
  table.put(pendingApproval());
});

afterEach(() => {
  vi.useRealTimers();
});

const decide = (approver: string, decision: 'approve' | 'reject' = 'approve', comment?: string) =>
  decideViaUrl(decideResumeApproval, approver, { approvalId: APPROVAL_ID, decision, ...(comment === undefined ? {} : { comment }) }, deps);

async function refusal(approver: string, decision: 'approve' | 'reject' = 'approve'): Promise<Error> {
  const error = await decide(approver, decision).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApprovalRefusedError);
  expect(error).toMatchObject({ name: 'ApprovalRefusedError' });
  return error as Error;
}

/** A refusal changes nothing: no decision stored, no task completed. */
function expectNothingDecided(): void {
  expect(ddb).not.toHaveReceivedCommand(UpdateItemCommand);
  expect(sfn).not.toHaveReceivedAnyCommand();
  expect(table.item()).toMatchObject({ status: 'pending' });
}

describe('decide-resume-approval: an approver decides', () => {
  it('approves: stores the decision and completes the waiting approval with who approved and when', async () => {
    await expect(decide(principal('chief-risk-officer'))).resolves.toEqual({ approvalId: APPROVAL_ID, decision: 'approve', delivery: 'delivered' });

    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TASK_TOKEN,
      output: JSON.stringify({ approvedBy: principal('chief-risk-officer'), decidedAt: NOW.toISOString(), comment: null }),
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expect(table.item()).toMatchObject({ status: 'approved', decidedBy: principal('chief-risk-officer'), decidedAt: NOW.toISOString() });
  });

  it('reads the approval consistently from the state table', async () => {
    await decide(principal('chief-risk-officer'));

    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: testConfig.stateTableName, Key: { pk: { S: KEY } }, ConsistentRead: true });
  });

  it('passes the comment on with the approval', async () => {
    await decide(principal('head-of-trading'), 'approve', 'venue confirmed FIX session healthy');

    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      output: JSON.stringify({ approvedBy: principal('head-of-trading'), decidedAt: NOW.toISOString(), comment: 'venue confirmed FIX session healthy' }),
    });
    expect(auditRecords(ddb)[0]?.reason).toBe('approve: venue confirmed FIX session healthy');
  });

  it('rejects: fails the waiting approval with ResumeRejected, naming who rejected and why', async () => {
    await expect(decide(principal('head-of-trading'), 'reject', 'losses not yet explained')).resolves.toEqual({
      approvalId: APPROVAL_ID,
      decision: 'reject',
      delivery: 'delivered',
    });

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TASK_TOKEN,
      error: 'ResumeRejected',
      cause: `Rejected by ${principal('head-of-trading')}: losses not yet explained`,
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(table.item()).toMatchObject({ status: 'rejected', decidedBy: principal('head-of-trading') });
  });

  it('stores the decision before it completes the task', async () => {
    await decide(principal('chief-risk-officer'));

    const [update] = ddb.commandCalls(UpdateItemCommand);
    const [success] = sfn.commandCalls(SendTaskSuccessCommand);
    expect(update && success && update.calledBefore(success)).toBe(true);
  });

  it('lets anyone but the requester approve when the fleet names no approvers', async () => {
    table.put(pendingApproval({ approvers: [] }));

    await expect(decide(principal('bob@example.com'))).resolves.toMatchObject({ decision: 'approve', delivery: 'delivered' });
  });

  it('records the decision on the resume execution, by the approver, from the CLI', async () => {
    await decide(principal('chief-risk-officer'));

    expect(auditTrail(ddb)).toEqual(['resume.approve intent started', 'resume.approve outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      subject: 'fleet',
      actor: principal('chief-risk-officer'),
      source: 'cli',
      executionId: RESUME_EXECUTION_ID,
      reason: 'approve',
      after: { decision: 'approve', delivery: 'delivered' },
    });
    expect(JSON.stringify(ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input))).not.toContain(TASK_TOKEN);
  });
});

describe('decide-resume-approval: refusals change nothing', () => {
  it('refuses the requester approving their own resume', async () => {
    const error = await refusal(principal('alice@example.com'));

    expect(error.message).toBe(`${principal('alice@example.com')} asked for this resume and cannot approve it: a second person must`);
    expectNothingDecided();
  });

  it('refuses the requester even when they are an approver', async () => {
    table.put(pendingApproval({ requestedBy: principal('head-of-trading') }));

    const error = await refusal(principal('head-of-trading'));

    expect(error.message).toContain(`${principal('head-of-trading')} asked for this resume and cannot approve it`);
    expectNothingDecided();
  });

  it('refuses the requester when any second person may approve', async () => {
    table.put(pendingApproval({ approvers: [] }));

    await refusal(principal('alice@example.com'));

    expectNothingDecided();
  });

  it('refuses the requester rejecting too: a decision needs a second person', async () => {
    await refusal(principal('alice@example.com'), 'reject');

    expectNothingDecided();
  });

  it('refuses someone who is not one of the approvers the fleet names', async () => {
    const error = await refusal(principal('bob@example.com'));

    expect(error.message).toBe(
      `${principal('bob@example.com')} is not a resume approver: chief-risk-officer, head-of-trading may approve (${principal('chief-risk-officer')}, ${principal('head-of-trading')})`,
    );
    expectNothingDecided();
  });

  it('refuses an approval that was already decided', async () => {
    table.put(pendingApproval({ status: 'rejected', decidedBy: principal('head-of-trading') }));

    const error = await refusal(principal('chief-risk-officer'));

    expect(error.message).toBe(`approval ${APPROVAL_ID} was already rejected`);
    expect(ddb).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('refuses an approval id nobody is waiting on', async () => {
    table.items.clear();

    const error = await refusal(principal('chief-risk-officer'));

    expect(error.message).toBe(`approvalId: no resume is waiting for approval ${APPROVAL_ID}`);
    expect(auditRecords(ddb)[0]).toMatchObject({ executionId: `approval:${APPROVAL_ID}` });
  });

  it('refuses an approval that has lapsed, from the moment it lapses', async () => {
    vi.setSystemTime(new Date('2025-07-05T13:30:00.000Z'));

    const error = await refusal(principal('chief-risk-officer'));

    expect(error.message).toBe(`approval ${APPROVAL_ID} lapsed at 2025-07-05T13:30:00.000Z: trading stays halted; ask again with a new resume`);
    expectNothingDecided();
  });

  it('still accepts a decision a moment before the approval lapses', async () => {
    vi.setSystemTime(new Date('2025-07-05T13:29:59.999Z'));

    await expect(decide(principal('chief-risk-officer'))).resolves.toMatchObject({ delivery: 'delivered' });
  });

  it('records each refusal as a failed outcome by the person refused, with the reason', async () => {
    await refusal(principal('bob@example.com'));

    expect(auditTrail(ddb)).toEqual(['resume.approve outcome failed']);
    expect(auditRecords(ddb)[0]).toMatchObject({
      actor: principal('bob@example.com'),
      source: 'cli',
      executionId: RESUME_EXECUTION_ID,
      reason: `${principal('bob@example.com')} is not a resume approver: chief-risk-officer, head-of-trading may approve (${principal('chief-risk-officer')}, ${principal('head-of-trading')})`,
      error: {
        name: 'ApprovalRefusedError',
        message: `${principal('bob@example.com')} is not a resume approver: chief-risk-officer, head-of-trading may approve (${principal('chief-risk-officer')}, ${principal('head-of-trading')})`,
      },
    });
  });

  it('keeps waiting after a refusal: an approver may still decide', async () => {
    await refusal(principal('alice@example.com'));

    await expect(decide(principal('chief-risk-officer'))).resolves.toMatchObject({ decision: 'approve' });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });
});

describe('decide-resume-approval: two approvers at once', () => {
  it('lets exactly one decision through: the conditional update refuses the second', async () => {
    const results = await Promise.allSettled([decide(principal('chief-risk-officer'), 'approve'), decide(principal('head-of-trading'), 'reject')]);

    // Both read the approval while it was pending, so both got as far as the conditional update.
    expect(ddb).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toBeInstanceOf(ApprovalRefusedError);
    expect((rejected[0] as Error).message).toBe(`approval ${APPROVAL_ID} was decided by someone else first`);
    expect(sfn.commandCalls(SendTaskSuccessCommand).length + sfn.commandCalls(SendTaskFailureCommand).length).toBe(1);
    expect(table.item()).toMatchObject({ status: 'approved', decidedBy: principal('chief-risk-officer') });
  });

  it('records the losing decision as a failed outcome', async () => {
    await Promise.allSettled([decide(principal('chief-risk-officer')), decide(principal('head-of-trading'))]);

    expect(
      auditRecords(ddb)
        .filter((r) => r.phase === 'outcome')
        .map((r) => `${r.actor} ${r.status}`)
        .sort(),
    ).toEqual([`${principal('chief-risk-officer')} succeeded`, `${principal('head-of-trading')} failed`]);
  });

  it('passes on any other DynamoDB error unchanged', async () => {
    ddb.on(UpdateItemCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const error = await decide(principal('chief-risk-officer')).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(ApprovalRefusedError);
    expect(error).toMatchObject({ name: 'ThrottlingException' });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });
});

describe('decide-resume-approval: the resume stopped waiting', () => {
  it('refuses when the task already closed (timed out or stopped) between the checks and the delivery', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    const error = await refusal(principal('chief-risk-officer'));

    expect(error.message).toBe(`the resume ${APPROVAL_ID} is no longer waiting for approval (it timed out or was stopped)`);
    expect(auditTrail(ddb)).toEqual(['resume.approve intent started', 'resume.approve outcome failed']);
  });

  it('passes on any other Step Functions error', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Invalid Token'), { name: 'InvalidToken' }));

    await expect(decide(principal('chief-risk-officer'))).rejects.toMatchObject({ name: 'InvalidToken' });
  });
});

describe('decide-resume-approval: the caller is the principal IAM authenticated', () => {
  it('refuses the requester under another display name: principals are compared, not names', async () => {
    // Recorded by an older client under a bare name; the caller is that person's SSO session.
    table.put(pendingApproval({ requestedBy: 'alice@example.com', approvers: [] }));
    expect((await refusal(principal('alice@example.com'))).message).toContain('asked for this resume and cannot approve it');
    expectNothingDecided();
  });

  it('a role pattern lets any session of the role approve, except the session that asked', async () => {
    const role = 'arn:aws:iam::111122223333:role/release-pipeline';
    const asker = 'arn:aws:sts::111122223333:assumed-role/release-pipeline/build-41';
    table.put(pendingApproval({ requestedBy: asker, approvers: [role] }));
    expect((await refusal(asker)).message).toBe(`${asker} asked for this resume and cannot approve it: a second person must`);
    await expect(decide('arn:aws:sts::111122223333:assumed-role/release-pipeline/build-42')).resolves.toMatchObject({ delivery: 'delivered' });
  });

  it('refuses a principal that is not an approver, naming who may approve', async () => {
    const message = (await refusal(principal('mallory'))).message;
    expect(message).toContain(`${principal('mallory')} is not a resume approver: chief-risk-officer, head-of-trading may approve`);
    expectNothingDecided();
  });

  it('takes no approver from the body, and refuses a request that did not come through the function URL', async () => {
    const body = { approvalId: APPROVAL_ID, decision: 'approve', approver: principal('chief-risk-officer') };
    const viaUrl = {
      requestContext: { accountId: '111122223333', authorizer: { iam: { userArn: principal('bob@example.com'), accountId: '111122223333' } } },
      body: JSON.stringify(body),
    };
    expect(() => parseInput(decideResumeApproval, viaUrl)).toThrow(/body: Unrecognized key: "approver"/);
    expect(() => parseInput(decideResumeApproval, body)).toThrow(InvalidInputError);
    expectNothingDecided();
  });

  it('completes the task with the token decrypted under the approval id, never a stored plaintext', async () => {
    await decide(principal('chief-risk-officer'));
    expect(kms).toHaveReceivedCommandWith(DecryptCommand, { EncryptionContext: { approvalId: APPROVAL_ID } });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
  });

  it('refuses to complete the task when the decrypted token does not match the stored hash', async () => {
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from('another-execution-token', 'utf8') });
    await expect(decide(principal('chief-risk-officer'))).rejects.toThrow('does not match its hash');
    expect(sfn).not.toHaveReceivedAnyCommand();
  });
});
