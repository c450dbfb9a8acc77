/**
 * `assure rotate <secret> [--reason] [--as]`: rotates a managed secret through
 * the rotate-secret state machine (the secret by fleet id, Secrets Manager name
 * or ARN) and prints each state, the pages sent and the outcome. Exit ok:
 * rotated and every consumer verified; failed: refused, or failed and rolled
 * back to the previous version; invalid: the message names the field.
 */
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import type { Output } from '../output';
import { currentUser } from '../sandbox-session';
import { runWorkflowCommand } from '../workflow-command';
import { runWorkflow, type WorkflowResult } from '../workflow-run';

export interface RotateOptions {
  readonly secret: string;
  readonly requestedBy: string;
  readonly reason?: string;
}

export function runRotate(sandbox: Sandbox, options: RotateOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const input = {
    secret: options.secret,
    requestedBy: options.requestedBy,
    source: 'cli',
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  };
  // Execution names take no `/`: a secret named by its path or ARN is named by its last segment.
  const label = options.secret.split(/[:/]/).pop() ?? 'secret';
  return runWorkflow(sandbox, { workflow: 'rotate-secret', input, namePrefix: `rotate-${label}`, label: `rotate ${label}` }, output, { quiet });
}

export function addRotateCommand(program: Command, context: CommandContext): void {
  program
    .command('rotate')
    .description('rotate a managed secret, then redeploy its consumers in dependency order through the health gate; any failure restores the previous version')
    .argument('<secret>', 'managed secret: fleet id (e.g. order-signing-key), Secrets Manager name or ARN')
    .option('--reason <text>', 'why (recorded, and paged on failure)')
    .option('--as <name>', 'who asks (default: the current user)')
    .action(async (secret: string, options: { reason?: string; as?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runRotate(
            sandbox,
            { secret, requestedBy: options.as ?? currentUser(), ...(options.reason === undefined ? {} : { reason: options.reason }) },
            context.output,
            { quiet },
          ),
        invalidRequestError: 'InvalidRotationRequestError',
      });
    });
}
