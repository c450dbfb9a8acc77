/**
 * Where the audit archive (an S3 bucket under Object Lock, compliance mode) keeps each audit record:
 * `audit/<subject>/<seq, 12 digits>.json`, the record as stored in DynamoDB. Records written before the
 * hash chain have no `seq`; they are kept under their sort key instead, so none is lost. Updates and
 * deletions the table's stream carries are kept as evidence under `tamper/`.
 */
import { CHAIN_LINK_PREFIX } from './audit-chain';

export const AUDIT_ARCHIVE_PREFIX = 'audit/';
export const TAMPER_EVIDENCE_PREFIX = 'tamper/';

/** An audit record as the table holds it, unmarshalled. */
export type StoredAuditItem = Readonly<Record<string, unknown>>;

const SUBJECT_KEY_PREFIX = 'subject#';

/** The record's subject: its `subject` attribute, else its partition key without `subject#`. */
export function auditSubject(item: StoredAuditItem): string {
  if (typeof item.subject === 'string' && item.subject !== '') return item.subject;
  const pk = typeof item.pk === 'string' ? item.pk : '';
  return pk.startsWith(SUBJECT_KEY_PREFIX) ? pk.slice(SUBJECT_KEY_PREFIX.length) : pk;
}

/** Whether a stream record's keys are a chain link's (audit-chain.ts): links claim a subject's seqs; they are not audit records and are not archived. */
export const isChainLinkKey = (keys: StoredAuditItem): boolean => typeof keys.sk === 'string' && keys.sk.startsWith(CHAIN_LINK_PREFIX);

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
