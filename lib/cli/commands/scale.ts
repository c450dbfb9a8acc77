/**
 * `assure scale <service> <count> [--reason] [--as]`: a manual scaling request
 * through the scale state machine (bounded by min/max, refused while halted or
 * deploying like any other; exit failed when refused), and `assure scale status`.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { UnknownServiceError } from '../errors';
import { EXIT } from '../exit-codes';
import type { Output } from '../output';
import { currentUser } from '../sandbox-session';
import { runWorkflowCommand, workflowExitCode } from '../workflow-command';
import { runWorkflow, type WorkflowResult } from '../workflow-run';
import { addScaleStatusCommand } from './scale-status';

export interface ScaleOptions {
  readonly service: string;
  readonly desiredCount: number;
  readonly requestedBy: string;
  readonly reason?: string;
}

export function runScale(sandbox: Sandbox, options: ScaleOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const input = {
    service: options.service,
    desiredCount: options.desiredCount,
    source: 'cli',
    requestedBy: options.requestedBy,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  };
  return runWorkflow(sandbox, { workflow: 'scale', input, namePrefix: `scale-${options.service}`, label: `scale ${options.service}` }, output, { quiet });
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`count: must be a whole number of tasks, not ${value}`);
  return n;
}

/** Registers `scale` and its `status` subcommand: exit failed when the request was refused, as when the workflow failed. */
export function addScaleCommand(program: Command, context: CommandContext): void {
  const { output } = context;
  const scale = program
    .command('scale')
    .description(
      'scale a service through the scale state machine (bounded by min/max; refused while halted, deploying or, for automatic requests, cooling down), or `scale status`',
    )
    .argument('<service>', 'fleet service id with a scaling policy')
    // Optional only so that a missing count is refused with the field named, as the workflow refuses the rest.
    .argument('[count]', 'the desired task count')
    .option('--reason <text>', 'why (recorded)')
    .option('--as <name>', 'who asks (default: the current user)')
    .action(async (service: string, count: string | undefined, options: { reason?: string; as?: string }) => {
      if (count === undefined) throw new InvalidArgumentError('count: is required (assure scale <service> <count>)');
      const desiredCount = parseCount(count);
      await runWorkflowCommand(context, {
        run: (sandbox, { quiet }) => {
          if (!sandbox.fleet.services[service]) throw new UnknownServiceError(service, Object.keys(sandbox.fleet.services));
          return runScale(
            sandbox,
            { service, desiredCount, requestedBy: options.as ?? currentUser(), ...(options.reason === undefined ? {} : { reason: options.reason }) },
            output,
            { quiet },
          );
        },
        exitCode: (result) =>
          result.status === 'SUCCEEDED' && String(result.output?.outcome ?? '') === 'refused'
            ? EXIT.failed
            : workflowExitCode(result, 'InvalidScaleRequestError'),
      });
    });
  // Commander dispatches `scale status` here before `scale <service> <count>` sees it.
  addScaleStatusCommand(scale, context);
}
