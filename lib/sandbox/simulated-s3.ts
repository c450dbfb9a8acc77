/**
 * S3: buckets, versioning and Object Lock, as the S3 API reference and the user
 * guide describe them. In a versioned bucket a PutObject adds a version and a
 * DeleteObject without a VersionId adds a delete marker; the versions stay. A
 * version under a retention (compliance mode until its retain-until date,
 * governance mode unless the caller bypasses it) or a legal hold cannot be
 * deleted, and a compliance retention can be extended but never shortened
 * (403 AccessDenied, "Access Denied because object protected by object lock.").
 * New objects take the bucket's default retention. The account's buckets carry
 * no data between accounts: names are unique within this simulated account only.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { SimulatedAwsError } from './aws-error';
import type { SimulatedService } from './sdk-transport';

type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

interface ObjectVersion {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly etag: string;
  readonly lastModified: number;
  retention?: { mode: LockMode; retainUntil: number };
  legalHold: boolean;
}

interface DefaultRetention {
  readonly Mode: LockMode;
  readonly Days?: number;
  readonly Years?: number;
}

interface Bucket {
  readonly name: string;
  readonly createdAt: number;
  objectLockEnabled: boolean;
  versioning: 'Enabled' | 'Suspended' | undefined;
  defaultRetention: DefaultRetention | undefined;
  encryption: { readonly algorithm: string; readonly keyId?: string } | undefined;
  /** Each key's versions, oldest first. */
  readonly objects: Map<string, ObjectVersion[]>;
}

/** A bucket as `Sandbox.save` keeps it (bodies base64). */
export interface BucketSnapshot {
  readonly name: string;
  readonly createdAt: number;
  readonly objectLockEnabled: boolean;
  readonly versioning?: 'Enabled' | 'Suspended';
  readonly defaultRetention?: DefaultRetention;
  readonly encryption?: { readonly algorithm: string; readonly keyId?: string };
  readonly objects: readonly [string, readonly (Omit<ObjectVersion, 'body'> & { readonly body: string })[]][];
}

type Input = Readonly<Record<string, unknown>>;

const DAY_MS = 86_400_000;
const MAX_KEYS = 1000;
const LOCKED = 'Access Denied because object protected by object lock.';

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const date = (value: unknown): number | undefined => {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' || typeof value === 'number') {
    const parsed = new Date(value).getTime();
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
};

/** A GetObject body as the SDK hands it out: a stream with the SDK's transform helpers. */
function streamingBody(
  bytes: Buffer,
): Readable & { transformToString(encoding?: BufferEncoding): Promise<string>; transformToByteArray(): Promise<Uint8Array> } {
  return Object.assign(Readable.from([bytes]), {
    transformToString: (encoding: BufferEncoding = 'utf8') => Promise.resolve(bytes.toString(encoding)),
    transformToByteArray: () => Promise.resolve(new Uint8Array(bytes)),
  });
}

export class SimulatedS3 implements SimulatedService {
  private readonly buckets = new Map<string, Bucket>();
  private versionCounter = 0;

  constructor(private readonly context: { readonly account: string; readonly region: string }) {}

  /** Where the buckets live (their ARNs carry neither: S3 bucket ARNs are `arn:aws:s3:::<name>`). */
  get location(): { readonly account: string; readonly region: string } {
    return this.context;
  }

  async handle(operation: string, input: Input): Promise<unknown> {
    switch (operation) {
      case 'CreateBucket':
        return this.createBucket(input);
      case 'PutBucketVersioning':
        return this.putBucketVersioning(input);
      case 'GetBucketVersioning': {
        const bucket = this.bucket(input);
        return bucket.versioning ? { Status: bucket.versioning } : {};
      }
      case 'PutObjectLockConfiguration':
        return this.putObjectLockConfiguration(input);
      case 'GetObjectLockConfiguration':
        return this.getObjectLockConfiguration(input);
      case 'PutBucketEncryption':
        return this.putBucketEncryption(input);
      case 'PutObject':
        return this.putObject(input);
      case 'GetObject':
        return this.getObject(input, true);
      case 'HeadObject':
        return this.getObject(input, false);
      case 'ListObjectsV2':
        return this.listObjects(input);
      case 'ListObjectVersions':
        return this.listObjectVersions(input);
      case 'DeleteObject':
        return this.deleteObject(input);
      case 'PutObjectRetention':
        return this.putObjectRetention(input);
      case 'GetObjectRetention': {
        const version = this.version(input);
        if (!version.retention)
          throw new SimulatedAwsError('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration', 404);
        return { Retention: { Mode: version.retention.mode, RetainUntilDate: new Date(version.retention.retainUntil) } };
      }
      case 'PutObjectLegalHold': {
        const bucket = this.bucket(input);
        if (!bucket.objectLockEnabled) throw new SimulatedAwsError('InvalidRequest', 'Bucket is missing ObjectLockConfiguration');
        this.version(input).legalHold = str((input.LegalHold as Input | undefined)?.Status) === 'ON';
        return {};
      }
      case 'DeleteBucket':
        return this.deleteBucket(input);
      default:
        throw new SimulatedAwsError('NotImplemented', `The sandbox does not implement S3 ${operation}`, 501);
    }
  }

  /** The bucket names of this account, for tests and the CLI. */
  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  snapshot(): BucketSnapshot[] {
    return [...this.buckets.values()].map((b) => ({
      name: b.name,
      createdAt: b.createdAt,
      objectLockEnabled: b.objectLockEnabled,
      ...(b.versioning ? { versioning: b.versioning } : {}),
      ...(b.defaultRetention ? { defaultRetention: b.defaultRetention } : {}),
      ...(b.encryption ? { encryption: b.encryption } : {}),
      objects: [...b.objects].map(([key, versions]) => [key, versions.map((v) => ({ ...v, body: v.body.toString('base64') }))]),
    }));
  }

  restore(buckets: readonly BucketSnapshot[]): void {
    for (const b of buckets) {
      this.buckets.set(b.name, {
        name: b.name,
        createdAt: b.createdAt,
        objectLockEnabled: b.objectLockEnabled,
        versioning: b.versioning,
        defaultRetention: b.defaultRetention,
        encryption: b.encryption,
        objects: new Map(b.objects.map(([key, versions]) => [key, versions.map((v) => ({ ...v, body: Buffer.from(v.body, 'base64') }))])),
      });
    }
  }

  private bucket(input: Input): Bucket {
    const bucket = this.buckets.get(str(input.Bucket));
    if (!bucket) throw new SimulatedAwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    return bucket;
  }

  private createBucket(input: Input): unknown {
    const name = str(input.Bucket);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..')) {
      throw new SimulatedAwsError('InvalidBucketName', 'The specified bucket is not valid.');
    }
    if (this.buckets.has(name)) {
      throw new SimulatedAwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
    }
    const objectLockEnabled = input.ObjectLockEnabledForBucket === true;
    // Object Lock turns versioning on, for good.
    this.buckets.set(name, {
      name,
      createdAt: Date.now(),
      objectLockEnabled,
      versioning: objectLockEnabled ? 'Enabled' : undefined,
      defaultRetention: undefined,
      encryption: undefined,
      objects: new Map(),
    });
    return { Location: `/${name}` };
  }

  private putBucketVersioning(input: Input): unknown {
    const bucket = this.bucket(input);
    const status = str((input.VersioningConfiguration as Input | undefined)?.Status);
    if (status !== 'Enabled' && status !== 'Suspended')
      throw new SimulatedAwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    if (bucket.objectLockEnabled && status === 'Suspended') {
      throw new SimulatedAwsError(
        'InvalidBucketState',
        'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
        409,
      );
    }
    bucket.versioning = status;
    return {};
  }

  private putObjectLockConfiguration(input: Input): unknown {
    const bucket = this.bucket(input);
    const configuration = (input.ObjectLockConfiguration ?? {}) as Input;
    if (str(configuration.ObjectLockEnabled) !== 'Enabled') {
      throw new SimulatedAwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    // Enabling Object Lock on an existing bucket needs versioning on first.
    if (!bucket.objectLockEnabled && bucket.versioning !== 'Enabled') {
      throw new SimulatedAwsError('InvalidBucketState', "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration", 409);
    }
    const retention = ((configuration.Rule as Input | undefined)?.DefaultRetention ?? undefined) as Input | undefined;
    let defaultRetention: DefaultRetention | undefined;
    if (retention) {
      const mode = str(retention.Mode);
      const days = retention.Days as number | undefined;
      const years = retention.Years as number | undefined;
      if ((mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') || (days === undefined) === (years === undefined)) {
        throw new SimulatedAwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
      }
      if ((days !== undefined && !(Number.isInteger(days) && days > 0)) || (years !== undefined && !(Number.isInteger(years) && years > 0))) {
        throw new SimulatedAwsError('InvalidArgument', 'Default retention period must be a positive integer value');
      }
      defaultRetention = { Mode: mode, ...(days !== undefined ? { Days: days } : { Years: years as number }) };
    }
    bucket.objectLockEnabled = true;
    bucket.defaultRetention = defaultRetention;
    return {};
  }

  private getObjectLockConfiguration(input: Input): unknown {
    const bucket = this.bucket(input);
    if (!bucket.objectLockEnabled)
      throw new SimulatedAwsError('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', 404);
    return {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        ...(bucket.defaultRetention ? { Rule: { DefaultRetention: { ...bucket.defaultRetention } } } : {}),
      },
    };
  }

  private putBucketEncryption(input: Input): unknown {
    const bucket = this.bucket(input);
    const rules = ((input.ServerSideEncryptionConfiguration as Input | undefined)?.Rules ?? []) as Input[];
    const rule = rules[0]?.ApplyServerSideEncryptionByDefault as Input | undefined;
    if (!rule) throw new SimulatedAwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    bucket.encryption = { algorithm: str(rule.SSEAlgorithm), ...(rule.KMSMasterKeyID ? { keyId: str(rule.KMSMasterKeyID) } : {}) };
    return {};
  }

  private newVersionId(bucket: Bucket): string {
    // An unversioned bucket's only version is `null`.
    // Derived from a counter, not drawn: writes to buckets leave the account's random sequence as it was.
    this.versionCounter += 1;
    return bucket.versioning ? createHash('sha256').update(`${bucket.name}#${Date.now()}#${this.versionCounter}`).digest('base64url').slice(0, 32) : 'null';
  }

  /** The retain-until date of the bucket's default retention for an object written now. */
  private defaultRetainUntil(retention: DefaultRetention, now: number): number {
    if (retention.Days !== undefined) return now + retention.Days * DAY_MS;
    const until = new Date(now);
    until.setUTCFullYear(until.getUTCFullYear() + (retention.Years ?? 0));
    return until.getTime();
  }

  private addVersion(bucket: Bucket, key: string, version: ObjectVersion): void {
    const versions = bucket.objects.get(key) ?? [];
    // Without versioning (or suspended) the `null` version is replaced, as S3 does.
    const kept = bucket.versioning === 'Enabled' ? versions : versions.filter((v) => v.versionId !== 'null');
    bucket.objects.set(key, [...kept, version]);
  }

  private putObject(input: Input): unknown {
    const bucket = this.bucket(input);
    const key = str(input.Key);
    if (key === '' || Buffer.byteLength(key) > 1024) throw new SimulatedAwsError('KeyTooLongError', 'Your key is too long', 400);
    const mode = input.ObjectLockMode as string | undefined;
    const retainUntil = date(input.ObjectLockRetainUntilDate);
    if ((mode !== undefined || retainUntil !== undefined || input.ObjectLockLegalHoldStatus !== undefined) && !bucket.objectLockEnabled) {
      throw new SimulatedAwsError('InvalidRequest', 'Bucket is missing ObjectLockConfiguration');
    }
    if ((mode === undefined) !== (retainUntil === undefined)) {
      throw new SimulatedAwsError('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
    }
    if (mode !== undefined && mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new SimulatedAwsError('InvalidArgument', 'Unknown wormMode directive.');
    const now = Date.now();
    if (retainUntil !== undefined && retainUntil <= now) throw new SimulatedAwsError('InvalidArgument', 'The retain until date must be in the future!');
    const body = this.bodyOf(input.Body);
    const version: ObjectVersion = {
      versionId: this.newVersionId(bucket),
      deleteMarker: false,
      body,
      contentType: input.ContentType as string | undefined,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      lastModified: now,
      legalHold: str(input.ObjectLockLegalHoldStatus) === 'ON',
      ...(mode !== undefined && retainUntil !== undefined
        ? { retention: { mode: mode as LockMode, retainUntil } }
        : bucket.defaultRetention
          ? { retention: { mode: bucket.defaultRetention.Mode, retainUntil: this.defaultRetainUntil(bucket.defaultRetention, now) } }
          : {}),
    };
    this.addVersion(bucket, key, version);
    return {
      ETag: version.etag,
      ...(bucket.versioning ? { VersionId: version.versionId } : {}),
      ...this.encryptionHeaders(bucket),
    };
  }

  private encryptionHeaders(bucket: Bucket): Record<string, unknown> {
    if (!bucket.encryption) return { ServerSideEncryption: 'AES256' };
    return {
      ServerSideEncryption: bucket.encryption.algorithm,
      ...(bucket.encryption.keyId ? { SSEKMSKeyId: bucket.encryption.keyId } : {}),
    };
  }

  private bodyOf(body: unknown): Buffer {
    if (body === undefined || body === null) return Buffer.alloc(0);
    if (typeof body === 'string') return Buffer.from(body, 'utf8');
    if (body instanceof Uint8Array) return Buffer.from(body);
    throw new Error('The sandbox takes S3 bodies as strings or bytes');
  }

  /** The version a request names, or the key's current one. */
  private version(input: Input): ObjectVersion {
    const bucket = this.bucket(input);
    const versions = bucket.objects.get(str(input.Key)) ?? [];
    const versionId = input.VersionId as string | undefined;
    if (versionId !== undefined) {
      const version = versions.find((v) => v.versionId === versionId);
      if (!version) throw new SimulatedAwsError('NoSuchVersion', 'The specified version does not exist.', 404);
      return version;
    }
    const latest = versions.at(-1);
    if (!latest || latest.deleteMarker) throw new SimulatedAwsError('NoSuchKey', 'The specified key does not exist.', 404);
    return latest;
  }

  private getObject(input: Input, withBody: boolean): unknown {
    let version: ObjectVersion;
    try {
      version = this.version(input);
    } catch (error) {
      // A HEAD response has no body, so the SDK can only report the status.
      if (!withBody && error instanceof SimulatedAwsError && error.httpStatusCode === 404) throw new SimulatedAwsError('NotFound', 'Not Found', 404);
      throw error;
    }
    if (version.deleteMarker) throw new SimulatedAwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
    const bucket = this.bucket(input);
    return {
      ...(withBody ? { Body: streamingBody(version.body) } : {}),
      ContentLength: version.body.length,
      ...(version.contentType ? { ContentType: version.contentType } : {}),
      ETag: version.etag,
      LastModified: new Date(version.lastModified),
      ...(bucket.versioning ? { VersionId: version.versionId } : {}),
      ...(version.retention ? { ObjectLockMode: version.retention.mode, ObjectLockRetainUntilDate: new Date(version.retention.retainUntil) } : {}),
      ...(bucket.objectLockEnabled ? { ObjectLockLegalHoldStatus: version.legalHold ? 'ON' : 'OFF' } : {}),
      ...this.encryptionHeaders(bucket),
    };
  }

  private maxKeys(input: Input): number {
    if (input.MaxKeys === undefined) return MAX_KEYS;
    const value = Number(input.MaxKeys);
    if (!Number.isInteger(value) || value < 0) throw new SimulatedAwsError('InvalidArgument', 'Provided max-keys not an integer or within integer range');
    return Math.min(value, MAX_KEYS);
  }

  /** Keys in UTF-8 binary order, as S3 lists them. */
  private sortedKeys(bucket: Bucket, prefix: string): string[] {
    return [...bucket.objects.keys()].filter((key) => key.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  private listObjects(input: Input): unknown {
    const bucket = this.bucket(input);
    const prefix = str(input.Prefix);
    const maxKeys = this.maxKeys(input);
    let after = str(input.StartAfter);
    if (input.ContinuationToken !== undefined) {
      try {
        after = Buffer.from(str(input.ContinuationToken), 'base64url').toString('utf8');
        if (!after.startsWith(`${bucket.name}\n`)) throw new Error('another listing');
        after = after.slice(bucket.name.length + 1);
      } catch {
        throw new SimulatedAwsError('InvalidArgument', 'The continuation token provided is incorrect');
      }
    }
    const current = this.sortedKeys(bucket, prefix).filter((key) => {
      const latest = bucket.objects.get(key)?.at(-1);
      return latest !== undefined && !latest.deleteMarker && Buffer.compare(Buffer.from(key), Buffer.from(after)) > 0;
    });
    const page = current.slice(0, maxKeys);
    const truncated = current.length > page.length;
    const last = page.at(-1);
    return {
      Name: bucket.name,
      Prefix: prefix,
      MaxKeys: maxKeys,
      KeyCount: page.length,
      IsTruncated: truncated,
      Contents: page.map((key) => {
        const latest = bucket.objects.get(key)?.at(-1) as ObjectVersion;
        return { Key: key, Size: latest.body.length, ETag: latest.etag, LastModified: new Date(latest.lastModified), StorageClass: 'STANDARD' };
      }),
      ...(input.ContinuationToken !== undefined ? { ContinuationToken: input.ContinuationToken } : {}),
      ...(truncated && last !== undefined ? { NextContinuationToken: Buffer.from(`${bucket.name}\n${last}`).toString('base64url') } : {}),
    };
  }

  private listObjectVersions(input: Input): unknown {
    const bucket = this.bucket(input);
    const prefix = str(input.Prefix);
    const maxKeys = this.maxKeys(input);
    // Newest first within a key, as S3 lists them.
    const entries = this.sortedKeys(bucket, prefix).flatMap((key) => {
      const versions = bucket.objects.get(key) ?? [];
      return versions.map((version, index) => ({ key, version, isLatest: index === versions.length - 1 })).reverse();
    });
    const keyMarker = input.KeyMarker as string | undefined;
    const versionMarker = input.VersionIdMarker as string | undefined;
    let start = 0;
    if (keyMarker !== undefined) {
      const atMarker = versionMarker === undefined ? -1 : entries.findIndex((e) => e.key === keyMarker && e.version.versionId === versionMarker);
      start = atMarker >= 0 ? atMarker + 1 : entries.findIndex((e) => Buffer.compare(Buffer.from(e.key), Buffer.from(keyMarker)) > 0);
      if (start < 0) start = entries.length;
    }
    const page = entries.slice(start, start + maxKeys);
    const truncated = start + page.length < entries.length;
    const last = page.at(-1);
    const shape = (e: (typeof entries)[number]) => ({
      Key: e.key,
      VersionId: e.version.versionId,
      IsLatest: e.isLatest,
      LastModified: new Date(e.version.lastModified),
    });
    return {
      Name: bucket.name,
      Prefix: prefix,
      MaxKeys: maxKeys,
      IsTruncated: truncated,
      Versions: page
        .filter((e) => !e.version.deleteMarker)
        .map((e) => ({ ...shape(e), ETag: e.version.etag, Size: e.version.body.length, StorageClass: 'STANDARD' })),
      DeleteMarkers: page.filter((e) => e.version.deleteMarker).map(shape),
      ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.version.versionId } : {}),
    };
  }

  /** Whether Object Lock keeps this version from being deleted now (or its retention from being weakened). */
  private held(version: ObjectVersion, bypassGovernance: boolean): boolean {
    if (version.legalHold) return true;
    if (!version.retention || version.retention.retainUntil <= Date.now()) return false;
    return version.retention.mode === 'COMPLIANCE' || !bypassGovernance;
  }

  private deleteObject(input: Input): unknown {
    const bucket = this.bucket(input);
    const key = str(input.Key);
    const versions = bucket.objects.get(key) ?? [];
    const versionId = input.VersionId as string | undefined;
    if (versionId === undefined) {
      if (bucket.versioning === 'Enabled') {
        // A delete marker hides the object; every version, locked or not, stays.
        const marker: ObjectVersion = {
          versionId: this.newVersionId(bucket),
          deleteMarker: true,
          body: Buffer.alloc(0),
          contentType: undefined,
          etag: '',
          lastModified: Date.now(),
          legalHold: false,
        };
        bucket.objects.set(key, [...versions, marker]);
        return { DeleteMarker: true, VersionId: marker.versionId };
      }
      const nullVersion = versions.find((v) => v.versionId === 'null');
      if (nullVersion && this.held(nullVersion, input.BypassGovernanceRetention === true)) throw new SimulatedAwsError('AccessDenied', LOCKED, 403);
      bucket.objects.delete(key);
      return {};
    }
    const version = versions.find((v) => v.versionId === versionId);
    // Deleting a version that does not exist succeeds, as S3 answers it.
    if (!version) return { VersionId: versionId };
    if (this.held(version, input.BypassGovernanceRetention === true)) throw new SimulatedAwsError('AccessDenied', LOCKED, 403);
    const remaining = versions.filter((v) => v !== version);
    if (remaining.length === 0) bucket.objects.delete(key);
    else bucket.objects.set(key, remaining);
    return { VersionId: versionId, ...(version.deleteMarker ? { DeleteMarker: true } : {}) };
  }

  private putObjectRetention(input: Input): unknown {
    const bucket = this.bucket(input);
    if (!bucket.objectLockEnabled) throw new SimulatedAwsError('InvalidRequest', 'Bucket is missing ObjectLockConfiguration');
    const version = this.version(input);
    const retention = (input.Retention ?? {}) as Input;
    const mode = retention.Mode as LockMode | undefined;
    const retainUntil = date(retention.RetainUntilDate);
    if (mode !== undefined && mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE')
      throw new SimulatedAwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    if (retainUntil !== undefined && retainUntil <= Date.now()) throw new SimulatedAwsError('InvalidArgument', 'The retain until date must be in the future!');
    const current = version.retention;
    if (current && current.retainUntil > Date.now()) {
      const weakens = mode !== current.mode || retainUntil === undefined || retainUntil < current.retainUntil;
      // Compliance mode: extend only; governance mode: anything else needs the bypass.
      if (weakens && (current.mode === 'COMPLIANCE' || input.BypassGovernanceRetention !== true)) throw new SimulatedAwsError('AccessDenied', LOCKED, 403);
    }
    if (mode === undefined || retainUntil === undefined) delete version.retention;
    else version.retention = { mode, retainUntil };
    return {};
  }

  private deleteBucket(input: Input): unknown {
    const bucket = this.bucket(input);
    if (bucket.objects.size > 0) {
      throw new SimulatedAwsError(
        'BucketNotEmpty',
        bucket.versioning
          ? 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.'
          : 'The bucket you tried to delete is not empty',
        409,
      );
    }
    this.buckets.delete(bucket.name);
    return {};
  }
}
