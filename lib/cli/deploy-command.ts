import type { Sandbox } from '../sandbox/sandbox';
import type { Output } from './output';
import { currentUser } from './sandbox-session';
import { runWorkflow, type WorkflowResult } from './workflow-run';

export interface DeployOptions {
  readonly service: string;
  readonly image: string;
  readonly requestedBy?: string;
  readonly reason?: string;
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
