/** `assure resume --reason <text>`: ask to resume trading after a halt; the resume waits for a second person's approval. */
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { EXIT } from '../exit-codes';
import type { Output } from '../output';
import { currentIdentity, followExecution, principalFor } from '../sandbox-session';
import { runWorkflowCommand, workflowExitCode } from '../workflow-command';
import { executionName, finishExecution, type WorkflowResult } from '../workflow-run';

export interface ResumeOptions {
  readonly reason: string;
  /** Who asks: a principal ARN, or a sandbox user's name (their SSO session); recorded as the principal. */
  readonly requestedBy: string;
}

/** Why a resume could not be asked for (IAM refused the caller, or the request function failed). */
export class ResumeRequestRefused extends Error {
  override readonly name = 'ResumeRequestRefused';
}

/**
 * Asks for a resume through the request function's URL (AWS_IAM auth) as the
 * requester's principal: the resume records that principal, which then cannot
 * approve it whatever name it uses. Runs it until it waits for approval (or
 * ends, when refused before that).
 */
export async function startResume(sandbox: Sandbox, options: ResumeOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const requestedBy = principalFor(options.requestedBy, sandbox.context.account);
  const name = executionName(sandbox, 'resume');
  const unfollow = quiet ? undefined : followExecution(sandbox, name, 'resume', output);
  let result: WorkflowResult;
  try {
    const response = await sandbox.invokeFunctionUrl('resume', 'RequestResume', requestedBy, { reason: options.reason, name });
    const answer = JSON.parse(response.body) as { executionArn?: string; message?: string; Message?: string };
    if (response.statusCode !== 200 || !answer.executionArn) {
      throw new ResumeRequestRefused(
        `${requestedBy} could not ask for a resume (${response.statusCode}: ${answer.message ?? answer.Message ?? response.body})`,
      );
    }
    await sandbox.clock.settle();
    result = await finishExecution(sandbox, answer.executionArn, { untilWaiting: true });
  } finally {
    unfollow?.();
  }
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
