/**
 * The polling baseline's handler: one DescribeServices per poll, reporting the
 * deployment's rollout state. Used only by the benchmark's polling variant of
 * the deploy state machine.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { deployPlanSchema, executionIdSchema } from '../../functions/shared/domain/deploy-plan';
import { defineHandler } from '../../functions/shared/runtime/handler';

export const pollDeploymentStatus = defineHandler({
  name: 'poll-deployment-status',
  description: 'Benchmark baseline: reads the rollout state of a deployment',
  clients: ['ecs'],
  input: z.object({ executionId: executionIdSchema, plan: deployPlanSchema, deploymentId: z.string() }),
  core: async ({ plan, deploymentId }, deps) => {
    const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: plan.cluster, services: [plan.ecsServiceName] }));
    const deployment = described.services?.[0]?.deployments?.find((d) => d.id === deploymentId);
    return { rolloutState: deployment?.rolloutState ?? 'FAILED', reason: deployment?.rolloutStateReason ?? 'deployment no longer listed' };
  },
});
