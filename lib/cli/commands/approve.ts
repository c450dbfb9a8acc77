/** `assure approve <approval id>`: a second person's decision on a waiting resume; an approval runs the resume to its end. */
import type { Command } from 'commander';
import { failureMessage } from '../../../functions/shared/runtime/failure';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { EXIT } from '../exit-codes';
import type { Output } from '../output';
import { currentUser, followExecution } from '../sandbox-session';
import { runWorkflowCommand } from '../workflow-command';
import { finishExecution, type WorkflowResult } from '../workflow-run';

export interface ApprovalOptions {
  readonly approvalId: string;
  readonly approver: string;
  readonly reject: boolean;
  readonly comment?: string;
}

/** Why an approval was not accepted (the decision function's ApprovalRefusedError). */
export class ApprovalRefused extends Error {
  override readonly name = 'ApprovalRefused';
}

/**
 * An approver's decision, through the resume workflow's decision function (as
 * `aws lambda invoke` would call it); then the resume runs on to its end.
 */
export async function decideApproval(sandbox: Sandbox, options: ApprovalOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const payload = {
    approvalId: options.approvalId,
    approver: options.approver,
    decision: options.reject ? 'reject' : 'approve',
    ...(options.comment ? { comment: options.comment } : {}),
  };
  const executionArn = `${sandbox.stateMachines.resume?.replace(':stateMachine:', ':execution:') ?? ''}:${options.approvalId}`;
  const unfollow = quiet ? undefined : followExecution(sandbox, options.approvalId, 'resume', output);
  try {
    try {
      await sandbox.invokeFunction('resume', 'DecideResumeApproval', payload);
    } catch (error) {
      throw new ApprovalRefused(failureMessage({ Error: (error as Error).name, Cause: (error as Error).message }));
    }
    return await finishExecution(sandbox, executionArn);
  } finally {
    unfollow?.();
  }
}

export function addApproveCommand(program: Command, context: CommandContext): void {
  program
    .command('approve')
    .description('decide on a waiting resume (the requester cannot approve); approval runs the resume to its end')
    .argument('<approval id>', 'the id `assure resume` printed')
    .option('--as <name>', 'who decides (default: the current user)')
    .option('--reject', 'reject instead of approve', false)
    .option('--comment <text>', 'recorded with the decision')
    .action(async (approvalId: string, options: { as?: string; reject: boolean; comment?: string }) => {
      try {
        await runWorkflowCommand(context, {
          run: (sandbox, { quiet }) =>
            decideApproval(
              sandbox,
              { approvalId, approver: options.as ?? currentUser(), reject: options.reject, ...(options.comment ? { comment: options.comment } : {}) },
              context.output,
              { quiet },
            ),
        });
      } catch (error) {
        // A refused decision (the requester, not an approver, too late) is an invalid request.
        if (!(error instanceof ApprovalRefused)) throw error;
        context.output.error(`✗ ${error.message}`);
        context.exit(EXIT.invalid);
      }
    });
}
