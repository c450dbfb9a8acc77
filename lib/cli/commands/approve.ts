/**
 * `assure approve <approval id>`: a second person's decision on a waiting
 * resume, or on a release held before production traffic; an approval runs the
 * resume, or the release, to its end. The decision goes to the decision
 * function's URL (AWS_IAM auth) as the selected principal (`--as`): IAM, then the
 * function, decide whether that principal may approve.
 */
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { EXIT } from '../exit-codes';
import { type Output, printPages } from '../output';
import { currentIdentity, followExecution, principalFor, withSandbox } from '../sandbox-session';
import { principalName } from '../../../functions/shared/domain/principals';
import type { ExecutionRecord } from '../../sandbox/simulated-step-functions';
import { readReleaseApproval, type ReleaseApproval } from '../../../functions/shared/domain/release-approval';
import { DECIDE_RELEASE_APPROVAL, RELEASE_WORKFLOW, executionArnOf } from '../release-contract';
import { finishRelease, followReleaseActivity, releaseExitCode, type ReleaseRun } from '../release-run';
import { workflowExitCode } from '../workflow-command';
import { finishExecution, printWorkflowResult, type WorkflowResult } from '../workflow-run';
import { printReleaseRun } from './release';

export interface ApprovalOptions {
  readonly approvalId: string;
  /** Who decides: a principal ARN, or a sandbox user's name (their SSO session). */
  readonly approver: string;
  readonly reject: boolean;
  readonly comment?: string;
}

/** Why an approval was not accepted (the decision function's ApprovalRefusedError). */
export class ApprovalRefused extends Error {
  override readonly name = 'ApprovalRefused';
}

/** Who the fleet lets approve, for a refusal's message. */
function whoMayApprove(approvers: readonly string[] | undefined): string {
  if (!approvers || approvers.length === 0) return 'anyone in the account but the requester may approve';
  return `only ${approvers.map(principalName).join(', ')} may approve (${approvers.join(', ')})`;
}

/**
 * The decision, POSTed to a decision function's URL as the approver's principal
 * (SigV4-signed in AWS): a refusal by IAM (the principal may not call the URL) or
 * by the function (the requester, not an approver, too late) is ApprovalRefused.
 */
async function postDecision(
  sandbox: Sandbox,
  target: { readonly workflow: string; readonly key: string; readonly label: string; readonly approvers: readonly string[] | undefined },
  options: ApprovalOptions,
): Promise<void> {
  const approver = principalFor(options.approver, sandbox.context.account);
  const body = { approvalId: options.approvalId, decision: options.reject ? 'reject' : 'approve', ...(options.comment ? { comment: options.comment } : {}) };
  const response = await sandbox.invokeFunctionUrl(target.workflow, target.key, approver, body);
  if (response.statusCode === 200) return;
  let answer: { message?: string; Message?: string } = {};
  try {
    answer = JSON.parse(response.body) as typeof answer;
  } catch {
    // Not JSON: the status says it.
  }
  if (response.statusCode === 403 && answer.message) throw new ApprovalRefused(answer.message);
  if (response.statusCode === 403) {
    throw new ApprovalRefused(
      `${approver} may not call the ${target.label} approval endpoint (IAM: ${answer.Message ?? 'Forbidden'}): ${whoMayApprove(target.approvers)}`,
    );
  }
  throw new Error(`The ${target.label} approval endpoint answered ${response.statusCode}: ${answer.message ?? answer.Message ?? response.body}`);
}

/**
 * An approver's decision, through the resume decision function's URL; then the
 * resume runs on to its end.
 */
export async function decideApproval(sandbox: Sandbox, options: ApprovalOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const executionArn = `${sandbox.stateMachines.resume?.replace(':stateMachine:', ':execution:') ?? ''}:${options.approvalId}`;
  const unfollow = quiet ? undefined : followExecution(sandbox, options.approvalId, 'resume', output);
  try {
    await postDecision(
      sandbox,
      { workflow: 'resume', key: 'DecideResumeApproval', label: 'resume', approvers: sandbox.fleet.approvals.resumeApprovers },
      options,
    );
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
 * function's URL; then the release (or the deploy, for a service deployed
 * alone) runs on to its end.
 */
export async function decideReleaseApproval(sandbox: Sandbox, options: ApprovalOptions, output: Output, { quiet = false } = {}): Promise<ReleaseRun> {
  const execution = heldExecution(sandbox, await readReleaseApproval(sandbox, options.approvalId), options.approvalId);
  // Refused before the decision is recorded: nothing here would run on after it.
  if (!execution) throw new ApprovalRefused(`approval ${options.approvalId} holds no release or deploy execution of this sandbox`);
  const unfollow = quiet ? undefined : followReleaseActivity(sandbox, output, { since: execution.startDate, executionName: execution.name });
  try {
    await postDecision(sandbox, { ...DECIDE_RELEASE_APPROVAL, label: 'release', approvers: sandbox.fleet.approvals.release.approvers }, options);
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
    .option('--reject', 'reject instead of approve', false)
    .option('--comment <text>', 'recorded with the decision')
    .action(async (approvalId: string, options: { reject: boolean; comment?: string }) => {
      const decision = {
        approvalId,
        // The global --as: who signs the request.
        approver: currentIdentity(),
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
