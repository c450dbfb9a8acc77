/** `assure rollback <service>`: return a service to a known-good revision through the rollback state machine. */
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import { parsePositiveInteger } from '../argument-parsers';
import type { CommandContext } from '../command-context';
import type { Output } from '../output';
import { currentUser } from '../sandbox-session';
import { runWorkflowCommand } from '../workflow-command';
import { runWorkflow, type WorkflowResult } from '../workflow-run';

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

export function addRollbackCommand(program: Command, context: CommandContext): void {
  program
    .command('rollback')
    .description(
      "return a service to a known-good revision: stops a deploy in flight with rollback, or redeploys the last COMPLETED revision (within the fleet's rollback window) or the one named",
    )
    .argument('<service>', 'fleet service id')
    .option('--revision <n>', 'task-definition revision to return to', parsePositiveInteger)
    .option('--reason <text>', 'why (recorded and paged)', 'rollback requested from the CLI')
    .option('--requested-by <name>', 'who asks (default: the current user)')
    .action(async (service: string, options: { revision?: number; reason: string; requestedBy?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runRollback(
            sandbox,
            {
              service,
              reason: options.reason,
              requestedBy: options.requestedBy ?? currentUser(),
              ...(options.revision ? { targetRevision: options.revision } : {}),
            },
            context.output,
            { quiet },
          ),
        invalidRequestError: 'InvalidRollbackRequestError',
      });
    });
}
