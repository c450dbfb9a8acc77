/**
 * Step Functions executions as Assure names, starts and recognises them: the
 * execution names taken from events (so a redelivered event cannot start a
 * second execution), which state machine an execution ARN belongs to, and
 * which fleet service a deploy execution was deploying.
 */
import { StartExecutionCommand, type StartExecutionCommandOutput } from '@aws-sdk/client-sfn';
import type { Fleet, FleetService } from '../../../lib/fleet/fleet';
import { fleetService } from '../../../lib/fleet/fleet-queries';
import type { HandlerDeps } from '../runtime/handler';

/** The execution's name: the last part of its ARN. */
export const executionName = (executionArn: string): string => executionArn.split(':').pop() ?? executionArn;

/** `<prefix>-<event id>`, cut to the characters and length Step Functions allows in a name. */
export const eventExecutionName = (prefix: string, eventId: string): string => `${prefix}-${eventId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);

/** Whether `executionArn` is an execution of `stateMachineArn` (`arn:...:execution:<machine>:<name>`). */
export const isExecutionOf = (stateMachineArn: string, executionArn: string): boolean =>
  executionArn.startsWith(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:`);

/**
 * Starts a named execution; undefined when the name was already used
 * (ExecutionAlreadyExists). A repeated name and input of a running execution
 * returns that execution instead: only a claim tells such a duplicate apart.
 */
export async function startNamedExecution(
  deps: Pick<HandlerDeps<'sfn'>, 'clients'>,
  stateMachineArn: string,
  name: string,
  input: object,
): Promise<StartExecutionCommandOutput | undefined> {
  try {
    return await deps.clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  } catch (error) {
    if ((error as Error).name === 'ExecutionAlreadyExists') return undefined;
    throw error;
  }
}

/**
 * The fleet service a deploy execution's input names, or undefined when the
 * input is not JSON or names no service of this fleet (a request the validator
 * refused). Own keys only: `constructor` is not a service.
 */
export function deployedServiceOf(fleet: Fleet, executionInput: string | null | undefined): FleetService | undefined {
  try {
    const { service } = JSON.parse(executionInput ?? '{}') as { service?: unknown };
    return typeof service === 'string' ? fleetService(fleet, service) : undefined;
  } catch {
    return undefined;
  }
}
