/**
 * Refuses a deploy that must not start: trading halted (or the flag unreadable:
 * fail closed), every deploy window closed, or the service not at rest. Records
 * the service's current revision as the rollback target.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, deployPlanSchema, executionIdSchema, type ServiceBaseline } from '../shared/domain/deploy-plan';
import { describeWindows, insideDeployWindow } from '../shared/domain/deploy-window';
import { DeploymentInProgressError, DeployWindowClosedError, ServiceStateError, TradingHaltedError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { readHaltFlag } from '../shared/domain/halt-flag';

export const checkDeployGuards = defineHandler({
  name: 'check-deploy-guards',
  description: 'Refuses a deploy while trading is halted, outside deploy windows, or while the service is not at rest',
  clients: ['dynamodb', 'ssm', 'ecs'],
  input: z.object({ executionId: executionIdSchema, plan: deployPlanSchema }),
  core: async ({ executionId, plan }, deps): Promise<ServiceBaseline> =>
    audited(
      deps,
      deployAuditAction('deploy.check-guards', plan, executionId),
      async () => {
        const halt = await readHaltFlag(deps);
        if (!halt.readable) throw new TradingHaltedError(`Deploy refused: the halt flag cannot be read (${halt.problem}); failing closed`);
        if (halt.flag.halted) {
          throw new TradingHaltedError(
            `Deploy refused: trading is halted (halt ${halt.flag.haltId ?? 'unknown'} by ${halt.flag.actor ?? 'unknown'}: ${halt.flag.reason ?? 'no reason given'})`,
          );
        }
        const now = new Date();
        if (!insideDeployWindow(deps.fleet.deploy.windows, now)) {
          throw new DeployWindowClosedError(
            `Deploy refused: ${now.toISOString()} is outside every deploy window (${describeWindows(deps.fleet.deploy.windows ?? [])})`,
          );
        }

        const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: plan.cluster, services: [plan.ecsServiceName] }));
        const service = described.services?.[0];
        if (!service || service.status !== 'ACTIVE') {
          const reason = described.failures?.[0]?.reason ?? service?.status ?? 'MISSING';
          throw new ServiceStateError(`ECS service ${plan.ecsServiceName} in cluster ${plan.cluster} cannot be deployed: ${reason}`);
        }
        const deployments = service.deployments ?? [];
        const primary = deployments.find((d) => d.status === 'PRIMARY');
        if (deployments.length !== 1 || !primary || primary.rolloutState !== 'COMPLETED') {
          const inFlight = deployments.find((d) => d.rolloutState === 'IN_PROGRESS') ?? primary;
          throw new DeploymentInProgressError(
            `Deploy refused: ${plan.service} already has a rollout that is not finished (deployment ${inFlight?.id ?? 'unknown'}, ${inFlight?.rolloutState ?? 'unknown state'}, ${deployments.length} deployments)`,
          );
        }
        if (!primary.taskDefinition || !service.serviceArn || !primary.id) {
          throw new ServiceStateError(`ECS service ${plan.ecsServiceName} reports no task definition`);
        }
        return {
          serviceArn: service.serviceArn,
          deploymentId: primary.id ?? '',
          previousTaskDefinitionArn: primary.taskDefinition,
          desiredCount: service.desiredCount ?? 0,
        };
      },
      (baseline) => ({ ...baseline }),
    ),
});
