import { userInfo } from 'node:os';
import type { Sandbox } from '../sandbox/sandbox';
import type { ExecutionRecord } from '../sandbox/simulated-step-functions';
import { type Output, duration } from './output';
import { describeCause, followExecution } from './sandbox-session';

export interface DeployOptions {
  readonly service: string;
  readonly image: string;
  readonly requestedBy?: string;
  readonly reason?: string;
}

export interface DeployResult {
  readonly executionArn: string;
  readonly status: ExecutionRecord['status'];
  readonly message: string;
  readonly transitions: number;
  readonly virtualMs: number;
}

export function currentUser(): string {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Starts the deploy state machine, follows it to the end, and reports how it ended. */
export async function runDeploy(sandbox: Sandbox, options: DeployOptions, output: Output, { quiet = false } = {}): Promise<DeployResult> {
  const input = {
    service: options.service,
    image: options.image,
    requestedBy: options.requestedBy ?? currentUser(),
    ...(options.reason ? { reason: options.reason } : {}),
  };
  const stamp = new Date(sandbox.clock.now()).toISOString().replace(/[-:]/g, '').slice(0, 15);
  const name = `${options.service}-${stamp}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
  if (!quiet) followExecution(sandbox, name, options.service, output);
  const executionArn = await sandbox.startExecution('deploy', input, name);
  const record = await sandbox.runExecution(executionArn);
  const message =
    record.status === 'SUCCEEDED'
      ? String((JSON.parse(record.output ?? '{}') as { message?: string }).message ?? 'deployed')
      : `${record.error ?? record.status}: ${describeCause(record.cause ?? '')}`;
  return {
    executionArn,
    status: record.status,
    message,
    transitions: record.transitions,
    virtualMs: (record.stopDate ?? sandbox.clock.now()) - record.startDate,
  };
}

export function printDeployResult(result: DeployResult, output: Output, json: boolean): void {
  if (json) {
    output.line(JSON.stringify(result, null, 2));
    return;
  }
  const mark = result.status === 'SUCCEEDED' ? '✓' : '✗';
  output.line(`${mark} ${result.message}`);
  output.line(`  ${result.status} after ${duration(result.virtualMs)} of virtual time, ${result.transitions} state transitions (${result.executionArn.split(':').pop() ?? ''})`);
}
