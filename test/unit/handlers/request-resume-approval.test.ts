import { createHash } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { requestResumeApproval } from '../../../functions/request-resume-approval/core';
import type { Resume } from '../../../functions/shared/domain/resume-plan';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { APPROVAL_ID, buildResume, HALT_ID, RESUME_EXECUTION_ID } from './halt-builders';
import { principal } from '../../support/approvals';

const NOW = new Date('2025-07-05T13:00:00.000Z');
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAresume-approval-token';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sns: AwsClientStub<SNSClient>;
let kms: AwsClientStub<KMSClient>;
const CIPHERTEXT = Buffer.from('kms-ciphertext-of-the-token');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  sns = mockClient(deps.clients.sns);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  kms = mockClient(deps.clients.kms);
  kms.on(EncryptCommand).resolves({ CiphertextBlob: new Uint8Array(CIPHERTEXT), KeyId: 'arn:aws:kms:eu-west-2:111122223333:key/k' });
});

afterEach(() => {
  vi.useRealTimers();
});

const requestApproval = (resume: Resume = buildResume()) =>
  requestResumeApproval.core({ executionId: RESUME_EXECUTION_ID, taskToken: TASK_TOKEN, resume }, deps);

const storedApproval = (): Record<string, unknown> | undefined => {
  const input = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
  return input?.Item ? unmarshall(input.Item) : undefined;
};

const pageMessage = (): string => sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';

describe('request-resume-approval', () => {
  it('stores the task token under approval#<approvalId> in the state table, pending, with the approval rules', async () => {
    await requestApproval();

    // Only the token's hash and its ciphertext under the approval-token key, bound to the approval id.
    expect(kms).toHaveReceivedCommandWith(EncryptCommand, {
      KeyId: 'alias/assure-prod-approval-tokens',
      Plaintext: Buffer.from(TASK_TOKEN, 'utf8'),
      EncryptionContext: { approvalId: APPROVAL_ID },
    });
    expect(JSON.stringify(storedApproval())).not.toContain(TASK_TOKEN);

    expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, { TableName: testConfig.stateTableName });
    expect(storedApproval()).toEqual({
      pk: `approval#${APPROVAL_ID}`,
      taskTokenHash: createHash('sha256').update(TASK_TOKEN).digest('hex'),
      taskTokenCiphertext: CIPHERTEXT.toString('base64'),
      executionId: RESUME_EXECUTION_ID,
      haltId: HALT_ID,
      requestedBy: principal('alice@example.com'),
      reason: buildResume().reason,
      approvers: [principal('chief-risk-officer'), principal('head-of-trading')],
      status: 'pending',
      requestedAt: NOW.toISOString(),
      // The approval lapses with the approval state's timeout; decide-resume-approval refuses it after.
      lapsesAt: '2025-07-05T13:30:00.000Z',
      // TTL: a week after the request lapses.
      expiresAt: NOW.getTime() / 1000 + 1800 + 7 * 86_400,
    });
  });

  it('returns the approval id and when the request lapses', async () => {
    await expect(requestApproval()).resolves.toEqual({ approvalId: APPROVAL_ID, lapsesAt: '2025-07-05T13:30:00.000Z' });
  });

  it('pages the approvers with who asks, why, who may approve, when it lapses and how to decide', async () => {
    await requestApproval();

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: testConfig.pagingTopicArn,
      Subject: `[assure prod] Approve resuming trading? (${HALT_ID})`,
    });
    expect(pageMessage().split('\n')).toEqual([
      `alice@example.com asks to resume trading after halt ${HALT_ID}: ${buildResume().reason}`,
      `Approvers: chief-risk-officer, head-of-trading. The request lapses at 2025-07-05T13:30:00.000Z.`,
      `Approve: assure approve ${APPROVAL_ID}    Reject: assure approve ${APPROVAL_ID} --reject`,
    ]);
  });

  it('takes the lapse time from the approval timeout', async () => {
    await expect(requestApproval(buildResume({ approvalTimeoutSeconds: 90 }))).resolves.toEqual({
      approvalId: APPROVAL_ID,
      lapsesAt: '2025-07-05T13:01:30.000Z',
    });

    expect(storedApproval()).toMatchObject({ lapsesAt: '2025-07-05T13:01:30.000Z', expiresAt: NOW.getTime() / 1000 + 90 + 7 * 86_400 });
    expect(pageMessage()).toContain('The request lapses at 2025-07-05T13:01:30.000Z.');
  });

  it('says anyone but the requester may approve when the fleet names no approvers', async () => {
    await requestApproval(buildResume({ approvers: null }));

    expect(storedApproval()).toMatchObject({ approvers: [] });
    expect(pageMessage()).toContain('Approvers: anyone but the requester.');
  });

  it('keeps the task token out of the page', async () => {
    await requestApproval();

    expect(pageMessage()).not.toContain(TASK_TOKEN);
    expect(JSON.stringify(sns.commandCalls(PublishCommand)[0]?.args[0].input)).not.toContain(TASK_TOKEN);
  });

  it('stores the token before paging, so an approver acting on the page finds it', async () => {
    await requestApproval();

    const [stored] = ddb.commandCalls(PutItemCommand);
    const [paged] = sns.commandCalls(PublishCommand);
    expect(stored && paged && stored.calledBefore(paged)).toBe(true);
  });

  it('pages nobody when the token could not be stored', async () => {
    ddb.on(PutItemCommand).rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }));

    await expect(requestApproval()).rejects.toThrow('Requested resource not found');

    expect(sns).not.toHaveReceivedAnyCommand();
  });
});
