/**
 * Invoked by a `.waitForTaskToken` state: stores the token where the ECS deployment
 * event will find it. If the outcome is already known (the event came first, or
 * ECS already reports the rollout finished), it completes the wait at once.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { deployPlanSchema, type DeploymentOutcome, executionIdSchema } from '../shared/deploy-plan';
import { defineHandler } from '../shared/handler';
import { deliverDeploymentOutcome, deploymentWaitKey, storeDeploymentOutcome, storeTaskToken } from '../shared/task-callbacks';

export const awaitDeploymentOutcome = defineHandler({
  name: 'await-deployment-outcome',
  description: "Registers a task token that the deployment's ECS outcome event completes",
  clients: ['dynamodb', 'sfn', 'ecs'],
  input: z.object({
    executionId: executionIdSchema,
    taskToken: z.string().min(1),
    plan: deployPlanSchema,
    deploymentId: z.string().min(1),
  }),
  core: async ({ executionId, taskToken, plan, deploymentId }, deps) => {
    const item = await storeTaskToken(deps, deploymentWaitKey(deploymentId), taskToken, {
      service: plan.service,
      executionId,
      waitingSince: new Date().toISOString(),
    });
    let outcome: DeploymentOutcome | undefined = item.outcome;
    if (!outcome) {
      // Belt and braces: ECS may have finished before either write (and events can be late).
      outcome = await outcomeFromEcs(deps, plan.cluster, plan.ecsServiceName, deploymentId);
      if (outcome) outcome = (await storeDeploymentOutcome(deps, outcome)).outcome;
    }
    if (!outcome) return { waiting: true, deploymentId };
    const delivery = await deliverDeploymentOutcome(deps, taskToken, outcome);
    return { waiting: false, deploymentId, delivery };
  },
});

async function outcomeFromEcs(
  deps: Parameters<typeof awaitDeploymentOutcome.core>[1],
  cluster: string,
  service: string,
  deploymentId: string,
): Promise<DeploymentOutcome | undefined> {
  const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const deployments = described.services?.[0]?.deployments ?? [];
  const deployment = deployments.find((d) => d.id === deploymentId);
  const at = new Date().toISOString();
  if (!deployment) {
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    return { deploymentId, status: 'FAILED', reason: `deployment is no longer listed; the service's primary deployment is ${primary?.id ?? 'unknown'}`, at };
  }
  if (deployment.rolloutState === 'COMPLETED' || deployment.rolloutState === 'FAILED') {
    return { deploymentId, status: deployment.rolloutState, reason: deployment.rolloutStateReason ?? deployment.rolloutState, at };
  }
  return undefined;
}
