/**
 * `assure release <manifest>`: a release of one or more services by digest
 * through the release state machine, followed to its end with each service's
 * traffic weights; `assure release status [id]`: recent releases, or one in full.
 */
import type { Command } from 'commander';
import { loadFleetFile } from '../../fleet/fleet-file';
import type { Sandbox } from '../../sandbox/sandbox';
import { parsePositiveInteger } from '../argument-parsers';
import type { CommandContext } from '../command-context';
import { UnknownReleaseError } from '../errors';
import { type Output, printPages } from '../output';
import { readRelease, type ReleaseRecord } from '../../../functions/shared/domain/release';
import { listReleases } from '../release-contract';
import { loadManifest, type ReleaseManifest } from '../release-manifest';
import { releaseExitCode, runRelease, type ReleaseRun } from '../release-run';
import { accountTable, printLines, releaseDetail, releaseListTable } from '../release-view';
import { currentUser, withSandbox } from '../sandbox-session';
import { printWorkflowResult } from '../workflow-run';

/** The release workflow's input for a manifest (contract: "Release workflow input"). */
export function manifestReleaseInput(manifest: ReleaseManifest, requestedBy: string, reason?: string): Record<string, unknown> {
  return {
    services: { ...manifest.services },
    requestedBy,
    reason: reason ?? manifest.reason ?? 'release requested from the CLI',
    source: { type: 'manifest' },
  };
}

/** The release workflow's input for a fleet rollback to before a release. */
export function fleetRollbackInput(releaseId: string, requestedBy: string, reason: string): Record<string, unknown> {
  return { rollbackOf: releaseId, requestedBy, reason };
}

/** The account, then how the release ended (and, when it waits, who must approve); or all of it as JSON. */
export function printReleaseRun(run: ReleaseRun, output: Output, json: boolean): void {
  if (json) {
    output.line(JSON.stringify({ ...run.result, releaseId: run.releaseId, release: run.record ?? null }, null, 2));
    return;
  }
  const accounts = Object.values(run.record?.services ?? {});
  if (run.record && accounts.length > 0) {
    output.line(`Release ${run.releaseId}: ${run.record.status}`);
    printLines(accountTable(accounts), output);
  }
  printWorkflowResult(run.result, output, false);
  if (run.result.status === 'WAITING') {
    output.line(`  Approval id: ${run.releaseId}. A second person runs: assure approve ${run.releaseId} --as <name>`);
  }
}

/** Opens the session, runs a release (printing as it goes unless --json), prints the pages, the account and the outcome, and sets the exit code. */
export async function runReleaseCommand(
  context: CommandContext,
  start: (sandbox: Sandbox, options: { readonly quiet: boolean }) => Promise<ReleaseRun>,
): Promise<ReleaseRun> {
  const { output } = context;
  const { json } = context.globals();
  const run = await withSandbox(context.globals(), async (sandbox) => {
    const pagesBefore = sandbox.sns.messages.length;
    const result = await start(sandbox, { quiet: json });
    if (!json) printPages(sandbox.sns.messages.slice(pagesBefore), output);
    return result;
  });
  printReleaseRun(run, output, json);
  context.exit(releaseExitCode(run));
  return run;
}

/** The release record, or an invalid-request error naming the id. */
export async function requireRelease(sandbox: Sandbox, releaseId: string): Promise<ReleaseRecord> {
  const record = await readRelease(sandbox, releaseId);
  if (!record) throw new UnknownReleaseError(releaseId);
  return record;
}

function addReleaseStatusCommand(release: Command, context: CommandContext): void {
  release
    .command('status')
    .description('recent releases, newest first; with an id, that release: who and why, waves, each service (tag and digest), revisions before and after')
    .argument('[id]', 'a release id (the release execution name)')
    .option('--limit <n>', 'how many releases to list', parsePositiveInteger, 20)
    .action(async (releaseId: string | undefined, options: { limit: number }) => {
      const { json } = context.globals();
      const found = await withSandbox(
        context.globals(),
        async (sandbox) => (releaseId === undefined ? listReleases(sandbox, options.limit) : requireRelease(sandbox, releaseId)),
        { save: false },
      );
      if (json) context.output.line(JSON.stringify(found, null, 2));
      else if (!Array.isArray(found)) printLines(releaseDetail(found), context.output);
      else if (found.length === 0) context.output.line('No release yet.');
      else printLines(releaseListTable(found), context.output);
    });
}

export function addReleaseCommand(program: Command, context: CommandContext): void {
  const release = program
    .command('release')
    .description(
      'release services by digest through the release state machine (dependency waves, each service with its own strategy; a failure rolls back the released ones in reverse order), or `release status [id]`',
    )
    .argument('<manifest>', 'YAML or JSON: {services: {<id>: <repository>@sha256:<digest>}, reason?}')
    .option('--reason <text>', "why (recorded and paged; overrides the manifest's reason)")
    .option('--requested-by <name>', 'who asks (default: the current user); they cannot approve it')
    .action(async (file: string, options: { reason?: string; requestedBy?: string }) => {
      // Checked before the sandbox opens: a manifest that does not validate changes nothing.
      const manifest = loadManifest(file, loadFleetFile(context.globals().config));
      const input = manifestReleaseInput(manifest, options.requestedBy ?? currentUser(), options.reason);
      await runReleaseCommand(context, (sandbox, { quiet }) => runRelease(sandbox, input, 'release', context.output, { quiet }));
    });
  // Commander dispatches `release status` here before `release <manifest>` sees it.
  addReleaseStatusCommand(release, context);
}
