/** `assure history [service]`: the audit trail, newest first. */
import type { Command } from 'commander';
import { readAuditTrail, type AuditRecord } from '../../../functions/shared/domain/audit';
import type { Sandbox } from '../../sandbox/sandbox';
import { parsePositiveInteger } from '../argument-parsers';
import type { CommandContext } from '../command-context';
import { UnknownServiceError } from '../errors';
import { type Output, table } from '../output';
import { withSandbox } from '../sandbox-session';

export async function auditHistory(sandbox: Sandbox, subject: string | undefined, limit: number): Promise<AuditRecord[]> {
  if (subject && !sandbox.fleet.services[subject] && subject !== 'fleet') {
    throw new UnknownServiceError(subject, Object.keys(sandbox.fleet.services));
  }
  return readAuditTrail(sandbox, { ...(subject ? { subject } : {}), limit });
}

export function printHistory(records: readonly AuditRecord[], output: Output): void {
  const rows = records.map((r) => [
    r.at.replace('T', ' ').slice(0, 19),
    r.subject,
    r.action,
    r.phase === 'intent' ? 'intent' : r.status,
    r.actor,
    (r.error ? `${r.error.name}: ${r.error.message}` : (r.reason ?? '')).slice(0, 100),
  ]);
  table(['TIME', 'SUBJECT', 'ACTION', 'RECORD', 'ACTOR', 'DETAIL'], rows).forEach((l) => output.line(l));
}

export function addHistoryCommand(program: Command, context: CommandContext): void {
  program
    .command('history')
    .description('the audit trail, newest first: every action with its intent and outcome records')
    .argument('[service]', 'one service only')
    .option('--limit <n>', 'how many records', parsePositiveInteger, 40)
    .action(async (service: string | undefined, options: { limit: number }) => {
      const records = await withSandbox(context.globals(), (sandbox) => auditHistory(sandbox, service, options.limit), { save: false });
      if (context.globals().json) context.output.line(JSON.stringify(records, null, 2));
      else printHistory(records, context.output);
    });
}
