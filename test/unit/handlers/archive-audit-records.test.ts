import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { archiveAuditRecords } from '../../../functions/archive-audit-records/core';
import { AuditRecordTamperedError, InvalidInputError } from '../../../functions/shared/runtime/errors';
import { parseInput } from '../../../functions/shared/runtime/handler';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';

let deps: TestDeps;
let s3: AwsClientStub<S3Client>;

beforeEach(() => {
  deps = testDeps();
  s3 = mockClient(deps.clients.s3);
  s3.on(PutObjectCommand).resolves({ VersionId: 'v1' });
});

const record = {
  pk: 'subject#order-gateway',
  sk: '2026-01-05T06:00:00.000Z#run-1#deploy#intent',
  trail: 'trail',
  subject: 'order-gateway',
  seq: 7,
  action: 'deploy',
};
const keys = marshall({ pk: record.pk, sk: record.sk });
const streamRecord = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', images: { NewImage?: object; OldImage?: object }, eventID = `${eventName}-1`) => ({
  eventID,
  eventName,
  dynamodb: { Keys: keys, ...images },
});

const archive = (records: unknown[]) => archiveAuditRecords.core(parseInput(archiveAuditRecords, { Records: records }), deps);
const puts = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

describe('archive-audit-records', () => {
  it('writes each new record to audit/<subject>/<seq, 12 digits>.json as stored, in stream order', async () => {
    const second = { ...record, seq: 8, sk: `${record.sk}2` };
    await expect(archive([streamRecord('INSERT', { NewImage: marshall(record) }), streamRecord('INSERT', { NewImage: marshall(second) })])).resolves.toEqual({
      archived: 2,
    });
    expect(puts().map((p) => [p.Bucket, p.Key, JSON.parse(p.Body as string)])).toEqual([
      [testConfig.auditArchiveBucketName, 'audit/order-gateway/000000000007.json', record],
      [testConfig.auditArchiveBucketName, 'audit/order-gateway/000000000008.json', second],
    ]);
  });

  it("skips the chain's own items, which change by design", async () => {
    const link = { pk: 'subject#order-gateway', sk: 'chain#head', seq: 8, hash: 'ab' };
    const linkKeys = marshall({ pk: link.pk, sk: link.sk });
    await expect(
      archive([
        { eventID: 'a', eventName: 'INSERT', dynamodb: { Keys: linkKeys, NewImage: marshall(link) } },
        { eventID: 'b', eventName: 'MODIFY', dynamodb: { Keys: linkKeys, NewImage: marshall({ ...link, seq: 9 }), OldImage: marshall(link) } },
      ]),
    ).resolves.toEqual({ archived: 0 });
    expect(puts()).toEqual([]);
  });

  it('archives an update or a deletion as evidence, then fails the batch with AuditRecordTamperedError', async () => {
    const edited = { ...record, actor: 'someone-else' };
    const run = archive([
      streamRecord('INSERT', { NewImage: marshall(record) }),
      streamRecord('MODIFY', { NewImage: marshall(edited), OldImage: marshall(record) }),
      streamRecord('REMOVE', { OldImage: marshall(record) }),
    ]);
    await expect(run).rejects.toBeInstanceOf(AuditRecordTamperedError);
    await expect(run).rejects.toThrow(/MODIFY of order-gateway .*#deploy#intent; REMOVE of order-gateway/);
    expect(puts().map((p) => p.Key)).toEqual([
      'audit/order-gateway/000000000007.json',
      `tamper/order-gateway/${record.sk}/MODIFY-1.json`,
      `tamper/order-gateway/${record.sk}/REMOVE-1.json`,
    ]);
    expect(JSON.parse(puts()[1]?.Body as string)).toMatchObject({ eventName: 'MODIFY', oldImage: record, newImage: edited });
  });

  it('lets an S3 failure fail the batch, so the mapping retries it', async () => {
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } }),
    );
    await expect(archive([streamRecord('INSERT', { NewImage: marshall(record) })])).rejects.toThrow();
  });

  it('refuses an event that is not a stream batch', () => {
    expect(() => parseInput(archiveAuditRecords, { Records: [{ eventName: 'INSERT' }] })).toThrow(InvalidInputError);
  });
});
