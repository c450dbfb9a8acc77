/**
 * Where the audit archive (an S3 bucket under Object Lock, compliance mode) keeps each audit record:
 * `audit/<subject>/<seq, 12 digits>.json`, the record as stored in DynamoDB. Records written before the
 * hash chain have no `seq`; they are kept under their sort key instead, so none is lost. Updates and
 * deletions the table's stream carries are kept as evidence under `tamper/`.
 */
export const AUDIT_ARCHIVE_PREFIX = 'audit/';
export const TAMPER_EVIDENCE_PREFIX = 'tamper/';
/** Items that carry the chain's state (the latest hash of a subject), not audit records: they change by design. */
export const CHAIN_LINK_SORT_KEY_PREFIX = 'chain#';

/** An audit record as the table holds it, unmarshalled. */
export type StoredAuditItem = Readonly<Record<string, unknown>>;

const SUBJECT_KEY_PREFIX = 'subject#';

/** The record's subject: its `subject` attribute, else its partition key without `subject#`. */
export function auditSubject(item: StoredAuditItem): string {
  if (typeof item.subject === 'string' && item.subject !== '') return item.subject;
  const pk = typeof item.pk === 'string' ? item.pk : '';
  return pk.startsWith(SUBJECT_KEY_PREFIX) ? pk.slice(SUBJECT_KEY_PREFIX.length) : pk;
}

export const isChainLink = (item: StoredAuditItem): boolean => typeof item.sk === 'string' && item.sk.startsWith(CHAIN_LINK_SORT_KEY_PREFIX);

/** The archive key of an audit record. */
export function auditArchiveKey(item: StoredAuditItem): string {
  const subject = auditSubject(item);
  if (typeof item.seq === 'number' && Number.isInteger(item.seq) && item.seq > 0) {
    return `${AUDIT_ARCHIVE_PREFIX}${subject}/${String(item.seq).padStart(12, '0')}.json`;
  }
  return `${AUDIT_ARCHIVE_PREFIX}${subject}/unchained/${String(item.sk ?? '')}.json`;
}

/** Evidence of an update or deletion of a record: one object per stream event. */
export const tamperEvidenceKey = (subject: string, sk: string, eventId: string): string => `${TAMPER_EVIDENCE_PREFIX}${subject}/${sk}/${eventId}.json`;

/** Canonical JSON (keys sorted at every level), so an archived copy and a table item compare by content. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
