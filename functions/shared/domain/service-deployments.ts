/** ECS service deployments: starting one with the service's strategy, stopping the one in flight with ROLLBACK. */
import { ListServiceDeploymentsCommand, StopServiceDeploymentCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type DeploymentSettings, type RolloutOptions, updateServiceInput } from './deployment-strategy';
import { ServiceStateError } from '../runtime/errors';
import type { HandlerDeps } from '../runtime/handler';

/**
 * Stops the service's PENDING or IN_PROGRESS deployment with ROLLBACK (ECS
 * returns it to the last COMPLETED deployment). The stopped deployment's ARN,
 * or undefined when nothing was in flight (or it finished before the stop).
 */
export async function rollBackInFlightDeployment(
  deps: Pick<HandlerDeps<'ecs'>, 'clients'>,
  cluster: string,
  ecsServiceName: string,
): Promise<string | undefined> {
  const inFlight = await deps.clients.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: ecsServiceName, status: ['PENDING', 'IN_PROGRESS'] }));
  const deployment = inFlight.serviceDeployments?.[0];
  if (!deployment?.serviceDeploymentArn) return undefined;
  try {
    await deps.clients.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: deployment.serviceDeploymentArn, stopType: 'ROLLBACK' }));
  } catch (error) {
    // It finished between the listing and the stop.
    if ((error as Error).name === 'ConflictException') return undefined;
    throw error;
  }
  return deployment.serviceDeploymentArn;
}

/**
 * Starts a deployment of `taskDefinitionArn` with the service's strategy (see
 * deployment-strategy.ts: rolling with the circuit breaker, or ECS's blue/green,
 * canary or linear) and the service's rollback alarms, and returns ECS's new
 * PRIMARY deployment.
 */
export async function startRollout(
  deps: Pick<HandlerDeps<'ecs'>, 'clients'>,
  plan: DeploymentSettings,
  taskDefinitionArn: string,
  options: RolloutOptions = {},
): Promise<{ readonly deploymentId: string; readonly startedAt: string }> {
  const updated = await deps.clients.ecs.send(new UpdateServiceCommand(updateServiceInput(plan, taskDefinitionArn, options)));
  const primary = updated.service?.deployments?.find((d) => d.status === 'PRIMARY');
  if (!primary?.id) throw new ServiceStateError(`UpdateService on ${plan.ecsServiceName} returned no primary deployment`);
  return { deploymentId: primary.id, startedAt: (primary.createdAt ?? new Date()).toISOString() };
}
