/**
 * `assure audit verify [--since <24h | ISO time>]`: reads every audit record and
 * chain link from the audit table and checks each subject's hash chain (seq
 * continuity, each record's hash, each prevHash, each record against the link
 * that claimed its seq). Exits with EXIT.broken on any break.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type ChainBreak,
  type ChainLink,
  isChainLink,
  type StoredChainRecord,
  type SubjectChainReport,
  verifyAuditChain,
} from '../../../functions/shared/domain/audit-chain';
import type { Sandbox } from '../../sandbox/sandbox';
import { type AuditArchiveCheck, checkAuditArchive } from '../audit-archive-check';
import type { CommandContext } from '../command-context';
import { EXIT } from '../exit-codes';
import { type Output, table } from '../output';
import { withSandbox } from '../sandbox-session';

export interface AuditVerification {
  readonly since?: string;
  readonly subjects: readonly SubjectChainReport[];
  readonly breaks: readonly ChainBreak[];
  /** The WORM archive against the table (lib/cli/audit-archive-check.ts). */
  readonly archive: AuditArchiveCheck;
  readonly ok: boolean;
}

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`90m`, `24h`, `7d`) or an ISO 8601 instant; returns the instant as ISO. */
export function parseSince(value: string, now: number): string {
  const relative = /^(\d+)([mhd])$/.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * (UNITS[relative[2] as string] as number)).toISOString();
  const instant = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(instant)) {
    throw new InvalidArgumentError('must be a duration (90m, 24h, 7d) or an ISO 8601 time (2026-01-05T00:00:00Z)');
  }
  return new Date(instant).toISOString();
}

/** Every item of the audit table, read consistently, split into records and chain links. */
export async function readAuditTable(sandbox: Sandbox): Promise<{ records: StoredChainRecord[]; links: ChainLink[] }> {
  const records: StoredChainRecord[] = [];
  const links: ChainLink[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await sandbox.clients.dynamodb.send(
      new ScanCommand({ TableName: sandbox.config.auditTableName, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey as never } : {}) }),
    );
    for (const item of page.Items ?? []) {
      const value = unmarshall(item);
      if (isChainLink(value)) links.push(value as ChainLink);
      else records.push(value as StoredChainRecord);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { records, links };
}

/** The stream keeps the archive a few seconds behind the table: verify lets records already written reach it first. */
const ARCHIVE_LAG_MS = 60_000;

export async function verifyAuditTrail(sandbox: Sandbox, since?: string): Promise<AuditVerification> {
  await sandbox.clock.runUntil(() => sandbox.lambda.pendingAsyncInvocations === 0, ARCHIVE_LAG_MS);
  const { records, links } = await readAuditTable(sandbox);
  const subjects = verifyAuditChain(records, links, since === undefined ? {} : { since });
  const breaks = subjects.flatMap((s) => s.breaks);
  const archive = await checkAuditArchive(sandbox, records, since === undefined ? {} : { since });
  const ok = breaks.length === 0 && archive.problems.length === 0;
  return { ...(since === undefined ? {} : { since }), subjects, breaks, archive, ok };
}

export function printVerification(result: AuditVerification, output: Output): void {
  output.line(result.since ? `Audit chains, records since ${result.since}:` : 'Audit chains, all records:');
  const rows = result.subjects.map((s) => [
    s.subject,
    String(s.records),
    String(s.head),
    s.preChain > 0 ? String(s.preChain) : '',
    s.breaks.length === 0 ? 'intact' : `${s.breaks.length} break(s)`,
  ]);
  table(['SUBJECT', 'RECORDS', 'HEAD SEQ', 'PRE-CHAIN', 'CHAIN'], rows).forEach((l) => output.line(l));
  if (result.breaks.length > 0) {
    output.line('');
    output.line('Breaks:');
    table(
      ['SUBJECT', 'SEQ', 'WHAT', 'DETAIL'],
      result.breaks.map((b) => [b.subject, b.seq === undefined ? '-' : String(b.seq), b.kind, b.detail]),
    ).forEach((l) => output.line(l));
  }
  output.line('');
  output.line(`Archive: ${result.archive.archived} record(s) archived${result.archive.problems.length > 0 ? ', problems:' : ', all match'}`);
  for (const problem of result.archive.problems) output.line(`  ${problem}`);
  output.line('');
  output.line(result.ok ? 'The audit trail is intact.' : 'The audit trail is BROKEN: a record was removed, changed or written outside the chain.');
}

export function addAuditCommand(program: Command, context: CommandContext): void {
  const audit = program.command('audit').description('the audit trail: check that nobody has removed or changed a record');
  audit
    .command('verify')
    .description("checks every subject's hash chain; exits non-zero on a gap, an edited record or a forked chain")
    .option('--since <duration | ISO time>', 'only records written since then (24h, 7d, or 2026-01-05T00:00:00Z); links to earlier ones are still checked')
    .action(async (options: { since?: string }) => {
      const result = await withSandbox(
        context.globals(),
        (sandbox) => verifyAuditTrail(sandbox, options.since === undefined ? undefined : parseSince(options.since, sandbox.clock.now())),
        { save: false },
      );
      if (context.globals().json) context.output.line(JSON.stringify(result, null, 2));
      else printVerification(result, context.output);
      if (!result.ok) context.exit(EXIT.broken);
    });
}
