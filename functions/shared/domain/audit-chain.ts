/**
 * The audit trail's hash chain. Every record of a subject carries `seq` (1, 2,
 * ... per subject), `prevHash` (the previous record's `hash`, or 64 zeros for
 * the first) and `hash` (SHA-256 over the canonical JSON of the stored record,
 * `hash` left out). A record edited in place no longer matches its hash; a
 * record removed leaves a gap in `seq`; a record re-hashed after an edit no
 * longer matches its successor's `prevHash` nor its chain link.
 *
 * Chain links: beside each record, the writer puts a link item
 * (pk `chain#<subject>`, sk `chain#<seq, 12 digits>`) in the same transaction,
 * on the condition that it does not exist yet. Two writers that read the same
 * head both try to claim the same seq; one transaction is cancelled and that
 * writer reads the head again, so the chain never forks. Links live in their
 * own partition and carry no `subject`, `seq`, `hash` or `trail`, so readers of
 * records (and the trail index) never see them.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);
/** The partition key prefix of chain links; records use `subject#`. */
export const CHAIN_LINK_PREFIX = 'chain#';
export const CHAIN_LINK_KIND = 'audit-chain-link';

export interface ChainFields {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

/** A chain link item as stored: which record took the seq, and its hash. */
export interface ChainLink {
  readonly pk: string;
  readonly sk: string;
  readonly kind: typeof CHAIN_LINK_KIND;
  readonly recordSk: string;
  readonly recordHash: string;
}

export const chainLinkPk = (subject: string): string => `${CHAIN_LINK_PREFIX}${subject}`;
export const chainLinkSk = (seq: number): string => `${CHAIN_LINK_PREFIX}${String(seq).padStart(12, '0')}`;
export const seqOfLink = (link: Pick<ChainLink, 'sk'>): number => Number(link.sk.slice(CHAIN_LINK_PREFIX.length));
export const isChainLink = (item: Readonly<Record<string, unknown>>): boolean => item.kind === CHAIN_LINK_KIND;

/** JSON with object keys sorted at every depth, no whitespace; `undefined` members dropped as JSON.stringify drops them. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const object = value as Record<string, unknown>;
  const members = Object.keys(object)
    .filter((k) => object[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`);
  return `{${members.join(',')}}`;
}

/** SHA-256 (hex) of the record as stored, without its own `hash`. */
export function auditRecordHash(record: object): string {
  const { hash: _hash, ...rest } = record as Readonly<Record<string, unknown>>;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/** A stored audit record as `verifyAuditChain` reads it (unmarshalled; chain fields absent on records from before the chain). */
export interface StoredChainRecord {
  readonly pk: string;
  readonly sk: string;
  readonly subject: string;
  readonly at: string;
  readonly seq?: number;
  readonly prevHash?: string;
  readonly hash?: string;
  readonly [key: string]: unknown;
}

export type ChainBreakKind = 'gap' | 'edited' | 'forked' | 'unchained';

export interface ChainBreak {
  readonly subject: string;
  readonly seq: number | undefined;
  readonly kind: ChainBreakKind;
  readonly detail: string;
}

export interface SubjectChainReport {
  readonly subject: string;
  /** Chained records checked (at or after `since`). */
  readonly records: number;
  /** The highest seq written (by records or links). */
  readonly head: number;
  /** Records written before the chain existed, accepted as they are. */
  readonly preChain: number;
  readonly breaks: readonly ChainBreak[];
}

export interface VerifyOptions {
  /** Only records at or after this instant are checked (and counted); their links to earlier records still are. */
  readonly since?: string;
}

/**
 * Checks every subject's chain: seq continuity, each record's hash, each
 * `prevHash` against the previous record, and each record against the link
 * that claimed its seq.
 */
export function verifyAuditChain(records: readonly StoredChainRecord[], links: readonly ChainLink[], options: VerifyOptions = {}): SubjectChainReport[] {
  const subjects = new Set<string>();
  const recordsBySubject = new Map<string, StoredChainRecord[]>();
  for (const record of records) {
    subjects.add(record.subject);
    recordsBySubject.set(record.subject, [...(recordsBySubject.get(record.subject) ?? []), record]);
  }
  const linksBySubject = new Map<string, Map<number, ChainLink>>();
  for (const link of links) {
    const subject = link.pk.slice(CHAIN_LINK_PREFIX.length);
    subjects.add(subject);
    const bySeq = linksBySubject.get(subject) ?? new Map<number, ChainLink>();
    bySeq.set(seqOfLink(link), link);
    linksBySubject.set(subject, bySeq);
  }
  return [...subjects]
    .sort()
    .map((subject) => verifySubject(subject, recordsBySubject.get(subject) ?? [], linksBySubject.get(subject) ?? new Map(), options.since));
}

/** The ISO time a record's sort key starts with (`<ISO time>#<execution>#...`). */
const timeOfSk = (sk: string): string => sk.split('#')[0] ?? '';

function verifySubject(
  subject: string,
  records: readonly StoredChainRecord[],
  links: ReadonlyMap<number, ChainLink>,
  since: string | undefined,
): SubjectChainReport {
  const inScope = (at: string): boolean => since === undefined || at >= since;
  const breaks: ChainBreak[] = [];
  const chained = records.filter((r) => r.seq !== undefined);
  const firstChainedAt = chained.reduce<string | undefined>((first, r) => (first === undefined || r.at < first ? r.at : first), undefined);
  let preChain = 0;
  for (const record of records.filter((r) => r.seq === undefined)) {
    // Records written before the chain existed are history as it was; one written after is outside the chain.
    if (firstChainedAt === undefined || record.at < firstChainedAt) preChain += 1;
    else if (inScope(record.at)) breaks.push({ subject, seq: undefined, kind: 'unchained', detail: `record ${record.sk} carries no chain fields` });
  }

  const bySeq = new Map<number, StoredChainRecord[]>();
  for (const record of chained) bySeq.set(record.seq as number, [...(bySeq.get(record.seq as number) ?? []), record]);
  const head = Math.max(0, ...bySeq.keys(), ...links.keys());
  /** The hash the chain committed to for a seq: its link's, else its (single) record's. */
  const committedHash = (seq: number): string | undefined => {
    if (seq === 0) return GENESIS_HASH;
    const link = links.get(seq);
    if (link) return link.recordHash;
    const found = bySeq.get(seq);
    return found?.length === 1 ? found[0]?.hash : undefined;
  };

  let checked = 0;
  for (let seq = 1; seq <= head; seq += 1) {
    const found = bySeq.get(seq) ?? [];
    const link = links.get(seq);
    if (found.length === 0) {
      // In scope when the link says it was written since, or when the next record that exists was.
      const next = [...bySeq.entries()].filter(([s]) => s > seq).sort(([a], [b]) => a - b)[0]?.[1][0];
      const when = link ? timeOfSk(link.recordSk) : next?.at;
      if (when === undefined || inScope(when)) {
        const detail = link ? `record ${link.recordSk} is missing (its chain link remains)` : 'no record and no chain link: the chain skips this seq';
        breaks.push({ subject, seq, kind: 'gap', detail });
      }
      continue;
    }
    for (const record of found) {
      if (!inScope(record.at)) continue;
      checked += 1;
      if (found.length > 1) {
        breaks.push({ subject, seq, kind: 'forked', detail: `${found.length} records claim this seq (${record.sk})` });
        continue;
      }
      const computed = auditRecordHash(record);
      if (computed !== record.hash) {
        breaks.push({ subject, seq, kind: 'edited', detail: `record ${record.sk} does not match its hash: it was changed after it was written` });
        continue;
      }
      if (!link) breaks.push({ subject, seq, kind: 'forked', detail: `record ${record.sk} has no chain link: it was written outside the chain` });
      else if (link.recordSk !== record.sk) breaks.push({ subject, seq, kind: 'forked', detail: `the chain link names ${link.recordSk}, not ${record.sk}` });
      else if (link.recordHash !== record.hash)
        breaks.push({ subject, seq, kind: 'edited', detail: `record ${record.sk} was rewritten with a new hash: its chain link holds the original's` });
      const previous = committedHash(seq - 1);
      if (previous !== undefined && record.prevHash !== previous)
        breaks.push({ subject, seq, kind: 'forked', detail: `prevHash does not match the hash of record ${seq - 1}` });
    }
  }
  return { subject, records: checked, head, preChain, breaks };
}
