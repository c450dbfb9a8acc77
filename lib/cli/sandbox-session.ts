/**
 * Opens the sandbox for one CLI command: loads the fleet file, restores the saved
 * sandbox, prints execution progress as it runs, and saves the sandbox after;
 * and who is asking: the principal `--as` selects (as AWS credentials would name
 * the caller), or the current user's SSO session.
 */
import { userInfo } from 'node:os';
import { failureMessage } from '../../functions/shared/runtime/failure';
import { loadFleetFile } from '../fleet/fleet-file';
import { Sandbox } from '../sandbox/sandbox';
import type { ExecutionRecord } from '../sandbox/simulated-step-functions';
import { type Output, clockTime } from './output';

export interface GlobalOptions {
  readonly config: string;
  readonly state: string;
  readonly json: boolean;
  /** The simulated principal: a name (an SSO user of the sandbox account) or a principal ARN. */
  readonly as?: string;
}

/**
 * The sandbox's people, as IAM Identity Center signs them in: each name is a
 * session of the permission set's role (`AWSReservedSSO_<set>_<suffix>`). The
 * approvers have their own permission sets; everyone else is a trading operator.
 */
export const SANDBOX_PERMISSION_SETS: Readonly<Record<string, string>> = {
  'chief-risk-officer': 'AWSReservedSSO_RiskApprover_9b2e',
  'head-of-trading': 'AWSReservedSSO_TradingApprover_3d7a',
};
export const SANDBOX_OPERATOR_ROLE = 'AWSReservedSSO_TradingOperator_5f1c';

/** A name's principal in `account`: its SSO session; a principal ARN stays as it is. */
export function principalFor(nameOrArn: string, account: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  const session = nameOrArn.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return `arn:aws:sts::${account}:assumed-role/${SANDBOX_PERMISSION_SETS[nameOrArn] ?? SANDBOX_OPERATOR_ROLE}/${session}`;
}

let selected: string | undefined;

/** The global `--as` of this command line (the program sets it before each action). */
export function selectPrincipal(nameOrArn: string | undefined): void {
  selected = nameOrArn;
}

/** Who is asking, as given (`--as`, else the OS user): a name or a principal ARN. */
export function currentIdentity(): string {
  if (selected !== undefined) return selected;
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The name recorded when a command has no --requested-by: the selected principal's session or user name. */
export function currentUser(): string {
  const identity = currentIdentity();
  return identity.startsWith('arn:') ? (identity.split('/').pop() ?? identity) : identity;
}

/** The caller's principal ARN in `account`. */
export const currentPrincipal = (account: string): string => principalFor(currentIdentity(), account);

export async function withSandbox<T>(options: GlobalOptions, work: (sandbox: Sandbox) => Promise<T>, { save = true } = {}): Promise<T> {
  const fleet = loadFleetFile(options.config);
  const sandbox = await Sandbox.open({ fleet, stateDirectory: options.state });
  try {
    const result = await work(sandbox);
    if (save) {
      await sandbox.settleEcs();
      await sandbox.save();
    }
    return result;
  } finally {
    sandbox.dispose();
  }
}

/**
 * Prints each state an execution enters, the errors its tasks end with (which
 * Retry/Catch then handle), and the AWS events that move it, with virtual times.
 * Call it before starting the execution, so the first state is shown too;
 * call what it returns to stop following.
 */
export function followExecution(sandbox: Sandbox, executionName: string, label: string, output: Output): () => void {
  let executionArn: string | undefined;
  const stopHistory = sandbox.stepFunctions.onHistoryEvent((execution: ExecutionRecord, event) => {
    if (execution.name !== executionName) return;
    executionArn = execution.executionArn;
    if (event.type.endsWith('StateEntered') && event.stateName) {
      output.line(`${clockTime(event.timestamp)}  ${label}  ${event.stateName}`);
    } else if (/^(Task|LambdaFunction)(Failed|TimedOut)$/.test(event.type) && event.detail) {
      const cause = describeCause(String(event.detail.cause ?? ''));
      const error = String(event.detail.error ?? '');
      output.line(`${clockTime(event.timestamp)}  ${label}    ↳ ${error}${cause && cause !== error ? `: ${cause}` : ''}`);
    }
  });
  const stopEvents = sandbox.eventBridge.onEvent((event) => {
    const running = executionArn !== undefined && sandbox.stepFunctions.execution(executionArn)?.status === 'RUNNING';
    if (!running) return;
    const time = clockTime(Date.parse(event.time));
    if (event['detail-type'] === 'ECS Deployment State Change') {
      output.line(`${time}  ${label}    ECS ${String(event.detail.eventName)} ${String(event.detail.deploymentId)}: ${String(event.detail.reason)}`);
    } else if (event['detail-type'] === 'CloudWatch Alarm State Change') {
      const state = event.detail.state as { value: string };
      if (state.value === 'ALARM') output.line(`${time}  ${label}    CloudWatch ${String(event.detail.alarmName)} → ALARM`);
    }
  });
  return () => {
    stopHistory();
    stopEvents();
  };
}

/** A Step Functions cause in words (a Lambda error payload's message), shortened for a terminal line. */
export function describeCause(cause: string): string {
  const text = failureMessage({ Error: '', Cause: cause });
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}
