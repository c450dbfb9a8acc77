/** `assure resume --reason <text>`: ask to resume trading after a halt; the resume waits for a second person's approval. */
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { EXIT } from '../exit-codes';
import type { Output } from '../output';
import { currentIdentity, principalFor } from '../sandbox-session';
import { runWorkflowCommand, workflowExitCode } from '../workflow-command';
import { runWorkflow, type WorkflowResult } from '../workflow-run';

export interface ResumeOptions {
  readonly reason: string;
  /** Who asks: a principal ARN, or a sandbox user's name (their SSO session); recorded as the principal. */
  readonly requestedBy: string;
}

/** Starts a resume and runs it until it waits for approval (or ends, when refused before that). */
export async function startResume(sandbox: Sandbox, options: ResumeOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  // The requester is a principal: the same principal cannot approve, whatever name it uses then.
  const requestedBy = principalFor(options.requestedBy, sandbox.context.account);
  const result = await runWorkflow(
    sandbox,
    { workflow: 'resume', input: { requestedBy, reason: options.reason }, namePrefix: 'resume', label: 'resume' },
    output,
    { quiet, untilWaiting: true },
  );
  return result.status === 'WAITING' ? { ...result, message: `waiting for a second person to approve (${requestedBy} cannot)` } : result;
}

export function addResumeCommand(program: Command, context: CommandContext): void {
  program
    .command('resume')
    .description('ask to resume trading after a halt: waits for a second person to approve (assure approve <id>), then restores gradually')
    .requiredOption('--reason <text>', 'why it is safe to resume')
    .action(async (options: { reason: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) => startResume(sandbox, { reason: options.reason, requestedBy: currentIdentity() }, context.output, { quiet }),
        // Waiting for the second person is what a resume asks for.
        exitCode: (result) => (result.status === 'WAITING' ? EXIT.ok : workflowExitCode(result, 'InvalidResumeRequestError')),
        after: (result) => {
          if (result.status !== 'WAITING') return;
          const approvalId = result.executionArn.split(':').pop() ?? '';
          context.output.line(`  Approval id: ${approvalId}. A second person runs: assure --as <approver> approve ${approvalId}`);
        },
      });
    });
}
