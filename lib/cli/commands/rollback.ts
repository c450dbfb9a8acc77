/**
 * `assure rollback <service>`: return a service to a known-good revision through
 * the rollback state machine; `assure rollback --release <id>`: return every
 * service of a release to its revision before it, through the release state machine.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import { parsePositiveInteger } from '../argument-parsers';
import type { CommandContext } from '../command-context';
import type { Output } from '../output';
import { currentUser } from '../sandbox-session';
import { runRelease } from '../release-run';
import { runWorkflowCommand } from '../workflow-command';
import { runWorkflow, type WorkflowResult } from '../workflow-run';
import { fleetRollbackInput, requireRelease, runReleaseCommand } from './release';

export interface RollbackOptions {
  readonly service: string;
  readonly reason: string;
  readonly requestedBy: string;
  readonly targetRevision?: number;
}

export function runRollback(sandbox: Sandbox, options: RollbackOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const input = {
    service: options.service,
    reason: options.reason,
    source: 'cli',
    requestedBy: options.requestedBy,
    ...(options.targetRevision === undefined ? {} : { targetRevision: options.targetRevision }),
  };
  return runWorkflow(sandbox, { workflow: 'rollback', input, namePrefix: `rollback-${options.service}`, label: `rollback ${options.service}` }, output, {
    quiet,
  });
}

interface RollbackCommandOptions {
  readonly revision?: number;
  readonly release?: string;
  readonly reason?: string;
  readonly requestedBy?: string;
}

/** Which rollback the command line asks for; refuses (naming the field) a service with --release, or neither. */
export function rollbackTarget(
  service: string | undefined,
  options: RollbackCommandOptions,
): { kind: 'service'; service: string } | { kind: 'release'; releaseId: string } {
  if (options.release !== undefined) {
    if (service !== undefined)
      throw new InvalidArgumentError(`service: a fleet rollback (--release) returns every service of the release; do not name ${service}`);
    if (options.revision !== undefined)
      throw new InvalidArgumentError(
        'revision: a fleet rollback (--release) returns each service to its revision before the release; --revision is for one service',
      );
    if (options.release.trim() === '') throw new InvalidArgumentError('release: must be a release id (assure release status lists them)');
    return { kind: 'release', releaseId: options.release };
  }
  if (service === undefined) throw new InvalidArgumentError('service: is required (assure rollback <service>, or assure rollback --release <id>)');
  return { kind: 'service', service };
}

export function addRollbackCommand(program: Command, context: CommandContext): void {
  program
    .command('rollback')
    .description(
      "return a service to a known-good revision: stops a deploy in flight with rollback, or redeploys the last COMPLETED revision (within the fleet's rollback window) or the one named; with --release, every service of that release to its revision before it, in reverse dependency order",
    )
    // Optional only so that a fleet rollback (--release) needs none; a missing one is refused with the field named.
    .argument('[service]', 'fleet service id')
    .option('--revision <n>', 'task-definition revision to return to', parsePositiveInteger)
    .option('--release <id>', 'a release id: return every service it released to its revision before it')
    .option('--reason <text>', 'why (recorded and paged)')
    .option('--requested-by <name>', 'who asks (default: the current user)')
    .action(async (service: string | undefined, options: RollbackCommandOptions) => {
      const target = rollbackTarget(service, options);
      const requestedBy = options.requestedBy ?? currentUser();
      if (target.kind === 'release') {
        const reason = options.reason ?? `fleet rollback of release ${target.releaseId} requested from the CLI`;
        await runReleaseCommand(context, async (sandbox, { quiet }) => {
          // Refused before anything starts when the state table has no such release.
          await requireRelease(sandbox, target.releaseId);
          return runRelease(sandbox, fleetRollbackInput(target.releaseId, requestedBy, reason), 'rollback-release', context.output, { quiet });
        });
        return;
      }
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runRollback(
            sandbox,
            {
              service: target.service,
              reason: options.reason ?? 'rollback requested from the CLI',
              requestedBy,
              ...(options.revision ? { targetRevision: options.revision } : {}),
            },
            context.output,
            { quiet },
          ),
        invalidRequestError: 'InvalidRollbackRequestError',
      });
    });
}
