/**
 * `assure approve <approval id>`: a second person's decision on a waiting
 * resume, or on a release held before production traffic; an approval runs the
 * resume, or the release, to its end.
 */
import type { Command } from 'commander';
import { failureMessage } from '../../../functions/shared/runtime/failure';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { EXIT } from '../exit-codes';
import { type Output, printPages } from '../output';
import { currentUser, followExecution, withSandbox } from '../sandbox-session';
import type { ExecutionRecord } from '../../sandbox/simulated-step-functions';
import { readReleaseApproval, type ReleaseApproval } from '../../../functions/shared/domain/release-approval';
import { DECIDE_RELEASE_APPROVAL, RELEASE_WORKFLOW, executionArnOf } from '../release-contract';
import { finishRelease, followReleaseActivity, releaseExitCode, type ReleaseRun } from '../release-run';
import { workflowExitCode } from '../workflow-command';
import { finishExecution, printWorkflowResult, type WorkflowResult } from '../workflow-run';
import { printReleaseRun } from './release';

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

/** Whether an approval id is a release approval: the deployment hook's `approval#<id>` record (`kind: release`); resumes keep theirs under the same key. */
export async function isReleaseApproval(sandbox: Sandbox, approvalId: string): Promise<boolean> {
  return (await readReleaseApproval(sandbox, approvalId)) !== undefined;
}

/** The execution a release approval holds: its release's, or the deploy's for a service deployed alone. */
function heldExecution(sandbox: Sandbox, approval: ReleaseApproval | undefined, approvalId: string): ExecutionRecord | undefined {
  const candidates = [
    executionArnOf(sandbox, RELEASE_WORKFLOW, approval?.releaseId ?? approvalId),
    approval?.deployExecutionId.startsWith('arn:') ? approval.deployExecutionId : executionArnOf(sandbox, 'deploy', approval?.deployExecutionId ?? approvalId),
  ];
  return candidates.map((arn) => (arn === undefined ? undefined : sandbox.stepFunctions.execution(arn))).find((e) => e !== undefined);
}

/**
 * A release approver's decision, through the deploy workflow's decision
 * function (as `aws lambda invoke` would call it); then the release (or the
 * deploy, for a service deployed alone) runs on to its end.
 */
export async function decideReleaseApproval(sandbox: Sandbox, options: ApprovalOptions, output: Output, { quiet = false } = {}): Promise<ReleaseRun> {
  const payload = {
    approvalId: options.approvalId,
    approver: options.approver,
    decision: options.reject ? 'reject' : 'approve',
    ...(options.comment ? { comment: options.comment } : {}),
  };
  const execution = heldExecution(sandbox, await readReleaseApproval(sandbox, options.approvalId), options.approvalId);
  // Refused before the decision is recorded: nothing here would run on after it.
  if (!execution) throw new ApprovalRefused(`approval ${options.approvalId} holds no release or deploy execution of this sandbox`);
  const unfollow = quiet ? undefined : followReleaseActivity(sandbox, output, { since: execution.startDate, executionName: execution.name });
  try {
    try {
      await sandbox.invokeFunction(DECIDE_RELEASE_APPROVAL.workflow, DECIDE_RELEASE_APPROVAL.key, payload);
    } catch (error) {
      throw new ApprovalRefused(failureMessage({ Error: (error as Error).name, Cause: (error as Error).message }));
    }
    if (execution.stateMachineArn === sandbox.stateMachines[RELEASE_WORKFLOW]) return await finishRelease(sandbox, execution.executionArn);
    return { releaseId: options.approvalId, result: await finishExecution(sandbox, execution.executionArn) };
  } finally {
    unfollow?.();
  }
}

export function addApproveCommand(program: Command, context: CommandContext): void {
  program
    .command('approve')
    .description('decide on a waiting resume or a release held before production traffic (the requester cannot approve); approval runs it to its end')
    .argument('<approval id>', 'the id `assure resume` or `assure release` printed')
    .option('--as <name>', 'who decides (default: the current user)')
    .option('--reject', 'reject instead of approve', false)
    .option('--comment <text>', 'recorded with the decision')
    .action(async (approvalId: string, options: { as?: string; reject: boolean; comment?: string }) => {
      const decision = {
        approvalId,
        approver: options.as ?? currentUser(),
        reject: options.reject,
        ...(options.comment ? { comment: options.comment } : {}),
      };
      const { json } = context.globals();
      try {
        // One session: which approval it is, the decision, and the run that follows.
        const decided = await withSandbox(context.globals(), async (sandbox) => {
          const pagesBefore = sandbox.sns.messages.length;
          const release = await isReleaseApproval(sandbox, approvalId);
          const run: ReleaseRun = release
            ? await decideReleaseApproval(sandbox, decision, context.output, { quiet: json })
            : { releaseId: approvalId, result: await decideApproval(sandbox, decision, context.output, { quiet: json }) };
          if (!json) printPages(sandbox.sns.messages.slice(pagesBefore), context.output);
          return { release, run };
        });
        if (decided.release) {
          printReleaseRun(decided.run, context.output, json);
          context.exit(releaseExitCode(decided.run));
        } else {
          printWorkflowResult(decided.run.result, context.output, json);
          context.exit(workflowExitCode(decided.run.result));
        }
      } catch (error) {
        // A refused decision (the requester, not an approver, too late) is an invalid request.
        if (!(error instanceof ApprovalRefused)) throw error;
        context.output.error(`✗ ${error.message}`);
        context.exit(EXIT.invalid);
      }
    });
}
