/**
 * checkAuditArchive against a simulated S3 bucket: what the table holds and
 * what the archive holds must agree, and every way they can differ is named.
 */
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { auditArchiveKey, type StoredAuditItem } from '../../functions/shared/domain/audit-archive';
import type { AwsClients } from '../../functions/shared/runtime/clients';
import { type ArchiveSandbox, checkAuditArchive } from '../../lib/cli/audit-archive-check';
import { testConfig } from '../support/handler-deps';
import { simulatedS3Client } from '../support/simulated-s3-client';

const record = (subject: string, seq: number, extra: object = {}): StoredAuditItem => ({
  pk: `subject#${subject}`,
  sk: `2026-01-05T06:00:0${seq}.000Z#run#deploy#intent`,
  trail: 'trail',
  subject,
  seq,
  action: 'deploy',
  ...extra,
});

async function archiveOf(records: readonly StoredAuditItem[]): Promise<{ sandbox: ArchiveSandbox; s3: AwsClients['s3'] }> {
  const { s3 } = simulatedS3Client();
  const Bucket = testConfig.auditArchiveBucketName;
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
    }),
  );
  // The archiver's body: the stored record, key order as it came.
  for (const r of records) await s3.send(new PutObjectCommand({ Bucket, Key: auditArchiveKey(r), Body: JSON.stringify(r) }));
  const sandbox = { clients: { s3 } as unknown as AwsClients, config: testConfig, complete: <T>(work: Promise<T>) => work } as unknown as ArchiveSandbox;
  return { sandbox, s3 };
}

describe('checkAuditArchive', () => {
  const trail = [record('order-gateway', 1), record('order-gateway', 2), record('fleet', 1)];

  it('finds nothing wrong when every record is archived as it stands, whatever the key order', async () => {
    const { sandbox } = await archiveOf(trail);
    const reordered = trail.map((r) => Object.fromEntries(Object.entries(r).reverse()));
    expect(await checkAuditArchive(sandbox, reordered)).toEqual({ archived: 3, problems: [] });
  });

  it('names a record missing from the archive, an edited record and a deleted one', async () => {
    const { sandbox } = await archiveOf(trail.slice(0, 2));
    const table = [record('order-gateway', 1, { actor: 'someone-else' }), record('fleet', 1)];
    expect((await checkAuditArchive(sandbox, table)).problems).toEqual([
      "order-gateway record 1 differs from its archived copy (audit/order-gateway/000000000001.json): the table's record was edited after it was written",
      'fleet record 1 is in the table but not in the archive (audit/fleet/000000000001.json)',
      'order-gateway record 2 is archived (audit/order-gateway/000000000002.json) but missing from the table: it was deleted',
    ]);
  });

  it('ignores archived records older than --since, which the table records given do not cover', async () => {
    const { sandbox } = await archiveOf(trail);
    expect(await checkAuditArchive(sandbox, [record('order-gateway', 2), record('fleet', 1)], { since: '2026-01-05T06:00:02.000Z' })).toEqual({
      archived: 3,
      problems: [],
    });
  });

  it('names tamper evidence, a replaced version and a delete marker; an identical retried write is no problem', async () => {
    const { sandbox, s3 } = await archiveOf(trail);
    const Bucket = testConfig.auditArchiveBucketName;
    const [first, second] = trail as [StoredAuditItem, StoredAuditItem];
    await s3.send(new PutObjectCommand({ Bucket, Key: auditArchiveKey(first), Body: JSON.stringify(first) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: auditArchiveKey(second), Body: JSON.stringify({ ...second, actor: 'x' }) }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: auditArchiveKey(first) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tamper/fleet/sk/event-1.json', Body: JSON.stringify({ eventName: 'REMOVE' }) }));
    const { problems } = await checkAuditArchive(sandbox, trail);
    expect(problems).toEqual([
      'audit/order-gateway/000000000001.json: someone deleted the archived record (a delete marker hides it; the locked version remains)',
      expect.stringMatching(/^audit\/order-gateway\/000000000002\.json: a later version \(.+\) differs from the archived record/),
      "the audit table's stream carried a deletion of an audit record: evidence at tamper/fleet/sk/event-1.json",
    ]);
  });
});
