import { userInfo } from 'node:os';
import type { Sandbox } from '../sandbox/sandbox';
import type { Output } from './output';
import { runWorkflow, type WorkflowResult } from './workflow-run';

export interface DeployOptions {
  readonly service: string;
  readonly image: string;
  readonly requestedBy?: string;
  readonly reason?: string;
}

export function currentUser(): string {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Starts the deploy state machine, follows it to the end, and reports how it ended. */
export async function runDeploy(sandbox: Sandbox, options: DeployOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const input = {
    service: options.service,
    image: options.image,
    requestedBy: options.requestedBy ?? currentUser(),
    ...(options.reason ? { reason: options.reason } : {}),
  };
  return runWorkflow(sandbox, { workflow: 'deploy', input, namePrefix: options.service, label: options.service }, output, { quiet });
}
