/** `assure deploy <service> --image <ref>`: a release through the deploy state machine. */
import type { Command } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import type { Output } from '../output';
import { currentUser } from '../sandbox-session';
import { runWorkflowCommand } from '../workflow-command';
import { runWorkflow, type WorkflowResult } from '../workflow-run';

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

export function addDeployCommand(program: Command, context: CommandContext): void {
  program
    .command('deploy')
    .description('deploy an image to a service through the deploy state machine')
    .argument('<service>', 'fleet service id, e.g. order-gateway')
    .requiredOption('--image <ref>', 'image reference: <repository>:<tag> or <repository>@sha256:<digest>')
    .option('--reason <text>', 'why (recorded in the audit trail)')
    .option('--requested-by <name>', 'who asks (default: the current user)')
    .action(async (service: string, options: { image: string; reason?: string; requestedBy?: string }) => {
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) =>
          runDeploy(
            sandbox,
            {
              service,
              image: options.image,
              ...(options.reason === undefined ? {} : { reason: options.reason }),
              ...(options.requestedBy === undefined ? {} : { requestedBy: options.requestedBy }),
            },
            context.output,
            { quiet },
          ),
        invalidRequestError: 'InvalidDeployRequestError',
        printPages: false,
      });
    });
}
