/**
 * The audit archive end to end in the sandbox: the audit table's stream reaches
 * the archiver, which writes every record to the Object Lock bucket; a locked
 * version cannot be deleted, replaced or have its retention shortened; an update
 * or deletion of a record in the table is archived as evidence, fails its batch
 * (the dead-letter queue's page), and the archive check names it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { S3ServiceException } from '@aws-sdk/client-s3';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../functions/shared/runtime/clients';
import { auditArchiveKey, type StoredAuditItem } from '../../functions/shared/domain/audit-archive';
import { isChainLink } from '../../functions/shared/domain/audit-chain';
import { checkAuditArchive } from '../../lib/cli/audit-archive-check';
import { ALL_CLIENT_CLASSES } from '../../lib/sandbox/all-clients';
import type { PolicyStatementJson } from '../../lib/sandbox/iam/policy-evaluator';
import { Sandbox } from '../../lib/sandbox/sandbox';
import { deploy, drainEvents, fleetWith, openSandbox } from '../support/sandbox';

async function tableRecords(sandbox: Sandbox): Promise<StoredAuditItem[]> {
  const items: StoredAuditItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await sandbox.complete(
      sandbox.clients.dynamodb.send(
        new ScanCommand({ TableName: sandbox.config.auditTableName, ...(start ? { ExclusiveStartKey: start as never } : {}), ConsistentRead: true }),
      ),
    );
    // The chain's links (audit-chain.ts) are not audit records: the archive keeps records only.
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)).filter((item) => !isChainLink(item)));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

const denial = (error: unknown): { name: string; status: number | undefined; message: string } => {
  const e = error as S3ServiceException;
  return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
};

describe('audit archive (WORM) in the sandbox', () => {
  it("archives every audit record of a deploy, locked in compliance mode for the fleet's retention", async () => {
    const sandbox = await openSandbox();
    const { record } = await deploy(sandbox, 'reference-data', 'v2.0.0');
    expect(record.status).toBe('SUCCEEDED');
    await drainEvents(sandbox);

    const records = await tableRecords(sandbox);
    expect(records.length).toBeGreaterThan(2);
    const bucket = sandbox.config.auditArchiveBucketName;
    const listed = await sandbox.complete(sandbox.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'audit/' })));
    expect((listed.Contents ?? []).map((c) => c.Key).sort()).toEqual(records.map((r) => auditArchiveKey(r)).sort());

    const first = records[0] as StoredAuditItem;
    const object = await sandbox.complete(sandbox.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: auditArchiveKey(first) })));
    expect(JSON.parse((await object.Body?.transformToString()) ?? '')).toEqual(first);
    expect(object.ObjectLockMode).toBe('COMPLIANCE');
    const years = (object.ObjectLockRetainUntilDate?.getTime() ?? 0) - (object.LastModified?.getTime() ?? 0);
    expect(years).toBe(7 * 365 * 86_400_000);
    expect(object.ServerSideEncryption).toBe('aws:kms');

    expect(await checkAuditArchive(sandbox, records)).toEqual({ archived: records.length, problems: [] });
    expect(sandbox.lambda.streamFailures).toEqual([]);
  });

  it('refuses to delete or shorten the retention of an archived version before its retain-until date; a new version leaves the original intact', async () => {
    const sandbox = await openSandbox(fleetWith((raw) => (raw.audit = { retentionYears: 10 })));
    await deploy(sandbox, 'reference-data', 'v2.0.0');
    await drainEvents(sandbox);
    const records = await tableRecords(sandbox);
    const target = records[0] as StoredAuditItem;
    const bucket = sandbox.config.auditArchiveBucketName;
    const key = auditArchiveKey(target);
    const s3 = sandbox.clients.s3;
    const original = await sandbox.complete(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    const versionId = original.VersionId as string;
    expect((original.ObjectLockRetainUntilDate?.getTime() ?? 0) - (original.LastModified?.getTime() ?? 0)).toBe(10 * 365 * 86_400_000);

    // Even the account's operator (no IAM policy applies) cannot remove the locked version.
    const deleted = await sandbox.complete(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).catch((e: unknown) => e);
    expect(denial(deleted)).toEqual({ name: 'AccessDenied', status: 403, message: 'Access Denied because object protected by object lock.' });
    const shortened = await sandbox
      .complete(
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: bucket,
            Key: key,
            VersionId: versionId,
            Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) },
          }),
        ),
      )
      .catch((e: unknown) => e);
    expect(denial(shortened).name).toBe('AccessDenied');
    const toGovernance = await sandbox
      .complete(
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: bucket,
            Key: key,
            VersionId: versionId,
            Retention: { Mode: 'GOVERNANCE', RetainUntilDate: original.ObjectLockRetainUntilDate as Date },
            BypassGovernanceRetention: true,
          }),
        ),
      )
      .catch((e: unknown) => e);
    expect(denial(toGovernance).name).toBe('AccessDenied');

    // An overwrite adds a version and a delete without a version id adds a marker; the locked version stays as written.
    await sandbox.complete(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify({ ...target, status: 'succeeded', reason: 'rewritten' }) })),
    );
    const marker = await sandbox.complete(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    expect(marker.DeleteMarker).toBe(true);
    const still = await sandbox.complete(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })));
    expect(JSON.parse((await still.Body?.transformToString()) ?? '')).toEqual(target);
    const retention = await sandbox.complete(s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: versionId })));
    expect(retention.Retention?.Mode).toBe('COMPLIANCE');

    const check = await checkAuditArchive(sandbox, records);
    expect(check.problems).toEqual([
      expect.stringMatching(new RegExp(`^${key}: a later version .* differs from the archived record`)),
      `${key}: someone deleted the archived record (a delete marker hides it; the locked version remains)`,
    ]);
  });

  it('keeps the archive across sandbox sessions, without archiving the restored records again', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'assure-archive-'));
    try {
      let sandbox = await Sandbox.open({ fleet: fleetWith(), stateDirectory: directory, iam: 'off' });
      await deploy(sandbox, 'reference-data', 'v2.0.0');
      await drainEvents(sandbox);
      // A record written just before the session ends: its stream record is saved, and delivered in the next session.
      const late = { pk: 'subject#late-test', sk: '2026-01-05T06:00:00.000Z#late#test#intent', trail: 'trail', subject: 'late-test', seq: 1, action: 'test' };
      await sandbox.complete(sandbox.clients.dynamodb.send(new PutItemCommand({ TableName: sandbox.config.auditTableName, Item: marshall(late) })));
      const before = await tableRecords(sandbox);
      await sandbox.save();
      sandbox.dispose();

      sandbox = await Sandbox.open({ fleet: fleetWith(), stateDirectory: directory, iam: 'off' });
      try {
        await drainEvents(sandbox);
        const versions = await sandbox.complete(
          sandbox.clients.s3.send(new ListObjectVersionsCommand({ Bucket: sandbox.config.auditArchiveBucketName, Prefix: 'audit/' })),
        );
        expect(versions.Versions?.length).toBe(before.length);
        await deploy(sandbox, 'reference-data', 'v2.0.1');
        await drainEvents(sandbox);
        const after = await tableRecords(sandbox);
        expect(after.length).toBeGreaterThan(before.length);
        expect(await checkAuditArchive(sandbox, after)).toEqual({ archived: after.length, problems: [] });
      } finally {
        sandbox.dispose();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("refuses the stream mapping, as Lambda does, when the archiver's role may not read the audit stream", async () => {
    const opened = openSandbox(fleetWith(), undefined, {
      editPolicies: (policies) => {
        const name = Object.keys(policies.functions).find((n) => n.endsWith('-audit-archive-archive-audit-records')) as string;
        const roleArn = policies.functions[name]?.roleArn as string;
        const role = policies.roles[roleArn];
        if (!role) throw new Error('no archiver role');
        const documents = role.documents.map((d) => ({
          ...d,
          Statement: ([] as PolicyStatementJson[]).concat(d.Statement).filter((s) => !([] as string[]).concat(s.Action ?? []).includes('dynamodb:GetRecords')),
        }));
        return { ...policies, roles: { ...policies.roles, [roleArn]: { ...role, documents } } };
      },
    });
    await expect(opened).rejects.toThrow(
      /^Cannot access stream arn:aws:dynamodb:eu-west-2:111122223333:table\/assure-prod-audit-trail\/stream\/.* Please ensure the role can perform the GetRecords/,
    );
  });

  it("lets the archiver's role write records but not delete them", async () => {
    const sandbox = await openSandbox();
    const name = Object.keys(sandbox.iam?.policies.functions ?? {}).find((n) => n.endsWith('-audit-archive-archive-audit-records')) as string;
    const session = sandbox.iam?.functionSession(name);
    expect(session).toBeDefined();
    const { s3 } = createAwsClients(ALL_CLIENT_CLASSES, { region: sandbox.context.region, plugins: [sandbox.transport.plugin(session)] });
    const bucket = sandbox.config.auditArchiveBucketName;
    await sandbox.complete(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'audit/x/000000000001.json', Body: '{}' })));
    const outside = await sandbox.complete(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere.json', Body: '{}' }))).catch((e: unknown) => e);
    expect(denial(outside)).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denial(outside).message).toContain(`s3:PutObject on resource: arn:aws:s3:::${bucket}/elsewhere.json`);
    const remove = await sandbox.complete(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'audit/x/000000000001.json' }))).catch((e: unknown) => e);
    expect(denial(remove).message).toContain('s3:DeleteObject');
  });

  it('archives an update and a deletion of an audit record as evidence, fails their batches, and the check names both', async () => {
    const sandbox = await openSandbox();
    await deploy(sandbox, 'reference-data', 'v2.0.0');
    await drainEvents(sandbox);
    const before = await tableRecords(sandbox);
    const [edited, removed] = before as [StoredAuditItem, StoredAuditItem];
    const keyOf = (item: StoredAuditItem) => marshall({ pk: item.pk, sk: item.sk });

    // The account's operator, whom no stack policy governs, rewrites history.
    await sandbox.complete(
      sandbox.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: sandbox.config.auditTableName,
          Key: keyOf(edited),
          UpdateExpression: 'SET actor = :someone',
          ExpressionAttributeValues: marshall({ ':someone': 'someone-else' }),
        }),
      ),
    );
    await sandbox.complete(sandbox.clients.dynamodb.send(new DeleteItemCommand({ TableName: sandbox.config.auditTableName, Key: keyOf(removed) })));
    await drainEvents(sandbox, 60 * 60_000);

    expect(sandbox.lambda.streamFailures.map((f) => [f.errorType, f.batchSize, f.condition])).toEqual([
      ['AuditRecordTamperedError', 1, 'RetryAttemptsExhausted'],
      ['AuditRecordTamperedError', 1, 'RetryAttemptsExhausted'],
    ]);
    const evidence = await sandbox.complete(
      sandbox.clients.s3.send(new ListObjectsV2Command({ Bucket: sandbox.config.auditArchiveBucketName, Prefix: 'tamper/' })),
    );
    expect(evidence.Contents?.length).toBe(2);

    const check = await checkAuditArchive(sandbox, await tableRecords(sandbox));
    expect(check.archived).toBe(before.length);
    expect(check.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`differs from its archived copy (${auditArchiveKey(edited)})`),
        expect.stringContaining(`is archived (${auditArchiveKey(removed)}) but missing from the table: it was deleted`),
        expect.stringMatching(/^the audit table's stream carried an update of an audit record: evidence at tamper\//),
        expect.stringMatching(/^the audit table's stream carried a deletion of an audit record: evidence at tamper\//),
      ]),
    );
    expect(check.problems, check.problems.join('\n')).toHaveLength(4);
  });
});
