/** ECS service deployments: stopping the one in flight with ROLLBACK. */
import { ListServiceDeploymentsCommand, StopServiceDeploymentCommand } from '@aws-sdk/client-ecs';
import type { HandlerDeps } from './handler';

/**
 * Stops the service's PENDING or IN_PROGRESS deployment with ROLLBACK (ECS
 * returns it to the last COMPLETED deployment). The stopped deployment's ARN,
 * or undefined when nothing was in flight (or it finished before the stop).
 */
export async function rollBackInFlightDeployment(deps: Pick<HandlerDeps<'ecs'>, 'clients'>, cluster: string, ecsServiceName: string): Promise<string | undefined> {
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
