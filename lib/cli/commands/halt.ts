/** `assure halt --reason <text>`: the kill switch, through the halt state machine. */
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import type { Output } from '../output';
import { currentUser } from '../sandbox-session';
import { runWorkflowCommand } from '../workflow-command';
import { runWorkflow, type WorkflowResult } from '../workflow-run';

export interface HaltOptions {
  readonly reason: string;
  readonly actor: string;
  readonly services?: readonly string[];
}

export function runHalt(sandbox: Sandbox, options: HaltOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const input = { reason: options.reason, actor: options.actor, source: 'cli', ...(options.services?.length ? { services: [...options.services] } : {}) };
  return runWorkflow(sandbox, { workflow: 'halt', input, namePrefix: 'halt', label: 'halt' }, output, { quiet });
}

export function addHaltCommand(program: Command, context: CommandContext): void {
  program
    .command('halt')
    .description('the kill switch: set the halt flag, tell trading services to halt, stop deploys, hard-stop where the policy says, verify, page')
    .requiredOption('--reason <text>', 'why trading must stop (recorded and paged)')
    .option('--service <id...>', 'trading services to halt (default: every trading service)')
    .option('--as <name>', 'who halts (default: the current user)')
    .action(async (options: { reason: string; service?: string[]; as?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runHalt(
            sandbox,
            { reason: options.reason, actor: options.as ?? currentUser(), ...(options.service ? { services: options.service } : {}) },
            context.output,
            { quiet },
          ),
        invalidRequestError: 'InvalidHaltRequestError',
      });
    });
}
