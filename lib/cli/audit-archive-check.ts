/**
 * The audit trail against its write-once archive (the sandbox's simulated S3
 * bucket): every record of the table must have an archived copy, byte for byte
 * the same content as its first archived version; every archived record must
 * still be in the table; and the archive must hold no evidence of an update or
 * deletion (the archiver keeps those under `tamper/`). Object Lock keeps each
 * first version, so a later version or a delete marker on a key is reported too.
 */
import { GetObjectCommand, ListObjectVersionsCommand, type ListObjectVersionsCommandOutput } from '@aws-sdk/client-s3';
import { AUDIT_ARCHIVE_PREFIX, auditArchiveKey, auditSubject, type StoredAuditItem, TAMPER_EVIDENCE_PREFIX } from '../../functions/shared/domain/audit-archive';
import { canonicalJson, isChainLink } from '../../functions/shared/domain/audit-chain';
import type { Sandbox } from '../sandbox/sandbox';

/** What the check needs of a sandbox: its operator's S3 client, the bucket's name, and virtual time to run the calls in. */
export type ArchiveSandbox = Pick<Sandbox, 'clients' | 'config' | 'complete'>;

export interface AuditArchiveCheck {
  /** Audit records in the archive (keys under `audit/`). */
  readonly archived: number;
  /** Each a sentence naming the record and what is wrong; empty when the archive and the table agree. */
  readonly problems: string[];
}

export interface AuditArchiveCheckOptions {
  /** `tableRecords` holds only records at or after this ISO time: older archived records are not expected in it. */
  readonly since?: string;
}

interface ArchivedVersion {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly isLatest: boolean;
}

async function listVersions(sandbox: ArchiveSandbox, prefix: string): Promise<ArchivedVersion[]> {
  const versions: ArchivedVersion[] = [];
  let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const page: ListObjectVersionsCommandOutput = await sandbox.complete(
      sandbox.clients.s3.send(new ListObjectVersionsCommand({ Bucket: sandbox.config.auditArchiveBucketName, Prefix: prefix, ...markers })),
    );
    // Versions come newest first within a key; a delete marker that is the key's latest hides the object.
    for (const v of page.Versions ?? []) versions.push({ key: v.Key ?? '', versionId: v.VersionId ?? '', deleteMarker: false, isLatest: v.IsLatest === true });
    for (const m of page.DeleteMarkers ?? [])
      versions.push({ key: m.Key ?? '', versionId: m.VersionId ?? '', deleteMarker: true, isLatest: m.IsLatest === true });
    if (!page.IsTruncated) return versions;
    markers = {
      ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}),
      ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}),
    };
  }
}

async function readVersion(sandbox: ArchiveSandbox, version: ArchivedVersion): Promise<string> {
  const object = await sandbox.complete(
    sandbox.clients.s3.send(new GetObjectCommand({ Bucket: sandbox.config.auditArchiveBucketName, Key: version.key, VersionId: version.versionId })),
  );
  return (await object.Body?.transformToString('utf8')) ?? '';
}

/** How a record is named in a problem: its subject, and its sequence number or sort key. */
function describe(item: StoredAuditItem): string {
  const position = typeof item.seq === 'number' ? `record ${item.seq}` : `record ${String(item.sk ?? '?')}`;
  return `${auditSubject(item)} ${position}`;
}

function parse(body: string): StoredAuditItem | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as StoredAuditItem) : undefined;
  } catch {
    return undefined;
  }
}

export async function checkAuditArchive(
  sandbox: ArchiveSandbox,
  tableRecords: readonly StoredAuditItem[],
  options: AuditArchiveCheckOptions = {},
): Promise<AuditArchiveCheck> {
  const problems: string[] = [];
  const byKey = new Map<string, ArchivedVersion[]>();
  for (const version of await listVersions(sandbox, AUDIT_ARCHIVE_PREFIX)) {
    const versions = byKey.get(version.key) ?? [];
    versions.push(version);
    byKey.set(version.key, versions);
  }
  // The first version of each key is the record as the archiver first wrote it; Object Lock keeps it.
  const originals = new Map<string, StoredAuditItem | undefined>();
  for (const [key, listed] of byKey) {
    // S3 lists a key's versions newest first (their times may tie to the millisecond; the order does not).
    const [first, ...later] = listed.filter((v) => !v.deleteMarker).reverse();
    if (!first) {
      problems.push(`${key}: only delete markers, no archived record`);
      continue;
    }
    const body = await readVersion(sandbox, first);
    const original = parse(body);
    if (!original) problems.push(`${key}: the archived copy is not a JSON record`);
    originals.set(key, original);
    for (const version of later) {
      const other = parse(await readVersion(sandbox, version));
      // A retried archive write adds an identical version; a different one is an attempt to replace the record.
      if (!other || canonicalJson(other) !== canonicalJson(original)) {
        problems.push(`${key}: a later version (${version.versionId}) differs from the archived record; the original is kept under Object Lock`);
      }
    }
    if (listed.some((v) => v.deleteMarker && v.isLatest))
      problems.push(`${key}: someone deleted the archived record (a delete marker hides it; the locked version remains)`);
  }

  const seen = new Set<string>();
  for (const record of tableRecords) {
    if (isChainLink(record)) continue;
    const key = auditArchiveKey(record);
    seen.add(key);
    if (!originals.has(key)) {
      problems.push(`${describe(record)} is in the table but not in the archive (${key})`);
      continue;
    }
    const original = originals.get(key);
    if (original && canonicalJson(original) !== canonicalJson(record)) {
      problems.push(`${describe(record)} differs from its archived copy (${key}): the table's record was edited after it was written`);
    }
  }
  for (const [key, original] of originals) {
    if (seen.has(key) || !original) continue;
    // A record's time: its `at`, else its sort key, which starts with it.
    const when = typeof original.at === 'string' ? original.at : String(original.sk ?? '');
    if (options.since !== undefined && when < options.since) continue;
    problems.push(`${describe(original)} is archived (${key}) but missing from the table: it was deleted`);
  }

  // One object per stream event; a retried batch writes it again as another version of the same key.
  const evidenceKeys = new Set<string>();
  for (const evidence of await listVersions(sandbox, TAMPER_EVIDENCE_PREFIX)) {
    if (evidence.deleteMarker || evidenceKeys.has(evidence.key)) continue;
    evidenceKeys.add(evidence.key);
    const body = parse(await readVersion(sandbox, evidence));
    const what = typeof body?.eventName === 'string' ? body.eventName : 'a change';
    problems.push(
      `the audit table's stream carried ${what === 'MODIFY' ? 'an update' : what === 'REMOVE' ? 'a deletion' : what} of an audit record: evidence at ${evidence.key}`,
    );
  }
  return { archived: byKey.size, problems };
}
