/**
 * Invoked by a `.waitForTaskToken` state: stores the token where the ECS deployment
 * event will find it. If the outcome is already known (the event came first, or
 * ECS already reports the rollout finished), it completes the wait at once.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { serviceTargetSchema, executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import {
  type DeploymentOutcome,
  deliverDeploymentOutcome,
  deploymentWaitKey,
  outcomeForWait,
  storeDeploymentOutcome,
  storeTaskToken,
} from '../shared/domain/task-callbacks';

export const awaitDeploymentOutcome = defineHandler({
  name: 'await-deployment-outcome',
  description: "Registers a task token that the deployment's ECS outcome event completes",
  clients: ['dynamodb', 'sfn', 'ecs'],
  input: z.object({
    executionId: executionIdSchema,
    taskToken: z.string().min(1),
    plan: serviceTargetSchema,
    deploymentId: z.string().min(1),
    /** Only an outcome at or after this time answers the wait (the deployment's start). */
    notBefore: z.string(),
  }),
  core: async ({ executionId, taskToken, plan, deploymentId, notBefore }, deps) => {
    const item = await storeTaskToken(deps, deploymentWaitKey(deploymentId), taskToken, {
      service: plan.service,
      executionId,
      notBefore,
    });
    let outcome: DeploymentOutcome | undefined = outcomeForWait(item);
    if (!outcome) {
      // Belt and braces: ECS may have finished before either write (and events can be late).
      const fromEcs = await outcomeFromEcs(deps, plan.cluster, plan.ecsServiceName, deploymentId, notBefore);
      if (fromEcs) outcome = outcomeForWait(await storeDeploymentOutcome(deps, fromEcs));
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
  notBefore: string,
): Promise<DeploymentOutcome | undefined> {
  const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const deployments = described.services?.[0]?.deployments ?? [];
  const deployment = deployments.find((d) => d.id === deploymentId);
  if (!deployment) {
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    return {
      deploymentId,
      status: 'FAILED',
      reason: `deployment is no longer listed; the service's primary deployment is ${primary?.id ?? 'unknown'}`,
      at: new Date().toISOString(),
    };
  }
  const updatedAt = deployment.updatedAt ?? new Date();
  if ((deployment.rolloutState === 'COMPLETED' || deployment.rolloutState === 'FAILED') && updatedAt.getTime() >= Date.parse(notBefore)) {
    return { deploymentId, status: deployment.rolloutState, reason: deployment.rolloutStateReason ?? deployment.rolloutState, at: updatedAt.toISOString() };
  }
  return undefined;
}
