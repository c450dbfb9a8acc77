/**
 * S3 versioning and Object Lock, held to the user guide ("Locking objects with
 * Object Lock", "How S3 Object Lock works": https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-overview.html,
 * "Managing delete markers with Object Lock") and the API Reference (PutObject,
 * DeleteObject, PutObjectRetention, PutObjectLockConfiguration, ListObjectsV2,
 * ListObjectVersions). A locked version is refused with 403 AccessDenied,
 * "Access Denied because object protected by object lock."
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { simulatedS3Client } from '../support/simulated-s3-client';

const DAY = 86_400_000;
const LOCKED = { name: 'AccessDenied', status: 403, message: 'Access Denied because object protected by object lock.' };

const failure = async (work: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> => {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(S3ServiceException);
  const e = error as S3ServiceException;
  return { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
};

async function lockedBucket(s3: S3Client, days = 30, mode: 'COMPLIANCE' | 'GOVERNANCE' = 'COMPLIANCE'): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: 'worm', ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'worm',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: mode, Days: days } } },
    }),
  );
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-01-05T06:00:00Z'), toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('S3 Object Lock: compliance mode', () => {
  it("applies the bucket's default retention to a new version, counted from its creation", async () => {
    const { s3 } = simulatedS3Client();
    await lockedBucket(s3, 30);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'a.json', Body: '{"a":1}' }));
    expect(put.VersionId).toBeTruthy();
    const object = await s3.send(new GetObjectCommand({ Bucket: 'worm', Key: 'a.json' }));
    expect(object.ObjectLockMode).toBe('COMPLIANCE');
    expect(object.ObjectLockRetainUntilDate?.getTime()).toBe(Date.now() + 30 * DAY);
    expect(await object.Body?.transformToString()).toBe('{"a":1}');
    const configuration = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'worm' }));
    expect(configuration.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } });
  });

  it('refuses to delete a locked version, with or without the governance bypass, until its retain-until date has passed', async () => {
    const { s3 } = simulatedS3Client();
    await lockedBucket(s3, 30);
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'a.json', Body: 'x' }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'a.json', VersionId })))).toEqual(LOCKED);
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'a.json', VersionId, BypassGovernanceRetention: true })))).toEqual(LOCKED);
    vi.setSystemTime(Date.now() + 30 * DAY + 1);
    expect(await s3.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'a.json', VersionId }))).toMatchObject({ VersionId });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'worm', Key: 'a.json', VersionId })))).toMatchObject({ name: 'NoSuchVersion', status: 404 });
  });

  it('a delete without a version id adds a delete marker: the object disappears from listings, the locked version stays readable', async () => {
    const { s3 } = simulatedS3Client();
    await lockedBucket(s3);
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'a.json', Body: 'original' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'a.json' }));
    expect(marker.DeleteMarker).toBe(true);
    expect(marker.VersionId).not.toBe(VersionId);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'worm', Key: 'a.json' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'worm' }))).KeyCount).toBe(0);
    const kept = await s3.send(new GetObjectCommand({ Bucket: 'worm', Key: 'a.json', VersionId }));
    expect(await kept.Body?.transformToString()).toBe('original');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'worm' }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([[VersionId, false]]);
    expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[marker.VersionId, true]]);
  });

  it('an overwrite adds a new version; the locked one keeps its bytes', async () => {
    const { s3 } = simulatedS3Client();
    await lockedBucket(s3);
    const first = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'a.json', Body: 'original' }));
    const second = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'a.json', Body: 'rewritten' }));
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'worm', Key: 'a.json' }))).Body?.transformToString()).toBe('rewritten');
    const original = await s3.send(new GetObjectCommand({ Bucket: 'worm', Key: 'a.json', VersionId: first.VersionId }));
    expect(await original.Body?.transformToString()).toBe('original');
  });

  it('a compliance retention may be extended, never shortened or turned to governance', async () => {
    const { s3 } = simulatedS3Client();
    await lockedBucket(s3, 30);
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'a.json', Body: 'x' }));
    const retention = (days: number, Mode: 'COMPLIANCE' | 'GOVERNANCE' = 'COMPLIANCE') =>
      s3.send(
        new PutObjectRetentionCommand({ Bucket: 'worm', Key: 'a.json', VersionId, Retention: { Mode, RetainUntilDate: new Date(Date.now() + days * DAY) } }),
      );
    expect(await failure(retention(1))).toEqual(LOCKED);
    expect(await failure(retention(60, 'GOVERNANCE'))).toEqual(LOCKED);
    await retention(60);
    const object = await s3.send(new GetObjectCommand({ Bucket: 'worm', Key: 'a.json', VersionId }));
    expect(object.ObjectLockRetainUntilDate?.getTime()).toBe(Date.now() + 60 * DAY);
  });

  it('governance mode gives way to the bypass; a legal hold to nothing', async () => {
    const { s3 } = simulatedS3Client();
    await lockedBucket(s3, 30, 'GOVERNANCE');
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'g.json', Body: 'x' }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'g.json', VersionId })))).toEqual(LOCKED);
    await s3.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'g.json', VersionId, BypassGovernanceRetention: true }));
    const held = await s3.send(new PutObjectCommand({ Bucket: 'worm', Key: 'h.json', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
    expect(
      await failure(s3.send(new DeleteObjectCommand({ Bucket: 'worm', Key: 'h.json', VersionId: held.VersionId, BypassGovernanceRetention: true }))),
    ).toEqual(LOCKED);
  });

  it('versioning cannot be suspended on an Object Lock bucket; lock settings need a lock bucket', async () => {
    const { s3 } = simulatedS3Client();
    await lockedBucket(s3);
    expect(await failure(s3.send(new PutBucketVersioningCommand({ Bucket: 'worm', VersioningConfiguration: { Status: 'Suspended' } })))).toEqual({
      name: 'InvalidBucketState',
      status: 409,
      message: 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    expect(
      await failure(
        s3.send(
          new PutObjectCommand({ Bucket: 'plain', Key: 'a', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() + DAY) }),
        ),
      ),
    ).toEqual({ name: 'InvalidRequest', status: 400, message: 'Bucket is missing ObjectLockConfiguration' });
    // Without versioning an object is simply replaced, and a delete removes it.
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'a', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'a' }));
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'a' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'missing', Key: 'a' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
  });
});

describe('S3 listings', () => {
  it('ListObjectsV2 pages in key order with a continuation token, and refuses a token from elsewhere', async () => {
    const { s3 } = simulatedS3Client();
    await s3.send(new CreateBucketCommand({ Bucket: 'list' }));
    for (const key of ['b/2', 'a/1', 'b/1', 'c', 'a/2']) await s3.send(new PutObjectCommand({ Bucket: 'list', Key: key, Body: key }));
    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'list', MaxKeys: 2 }));
    expect(first.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2']);
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(new ListObjectsV2Command({ Bucket: 'list', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }));
    expect(second.Contents?.map((c) => c.Key)).toEqual(['b/1', 'b/2']);
    const last = await s3.send(new ListObjectsV2Command({ Bucket: 'list', MaxKeys: 2, ContinuationToken: second.NextContinuationToken }));
    expect([last.Contents?.map((c) => c.Key), last.IsTruncated, last.NextContinuationToken]).toEqual([['c'], false, undefined]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: 'b/' }))).Contents?.map((c) => c.Key)).toEqual(['b/1', 'b/2']);
    expect(await failure(s3.send(new ListObjectsV2Command({ Bucket: 'list', ContinuationToken: 'bm9wZQ' })))).toEqual({
      name: 'InvalidArgument',
      status: 400,
      message: 'The continuation token provided is incorrect',
    });
  });

  it('ListObjectVersions pages through every version, newest first within a key', async () => {
    const { s3 } = simulatedS3Client();
    await s3.send(new CreateBucketCommand({ Bucket: 'versions' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versions', VersioningConfiguration: { Status: 'Enabled' } }));
    const ids = [];
    for (const body of ['1', '2', '3']) ids.push((await s3.send(new PutObjectCommand({ Bucket: 'versions', Key: 'k', Body: body }))).VersionId);
    const first = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versions', MaxKeys: 2 }));
    expect(first.Versions?.map((v) => v.VersionId)).toEqual([ids[2], ids[1]]);
    const rest = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'versions', MaxKeys: 2, KeyMarker: first.NextKeyMarker, VersionIdMarker: first.NextVersionIdMarker }),
    );
    expect([rest.Versions?.map((v) => v.VersionId), rest.IsTruncated]).toEqual([[ids[0]], false]);
  });
});
