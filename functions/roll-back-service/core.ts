/**
 * Returns a service to a known-good revision:
 * - a deployment in flight is stopped with ROLLBACK (ECS returns to the last
 *   COMPLETED deployment, even where the service did not configure rollback);
 * - otherwise the named revision, when an engineer asked for one;
 * - otherwise the last COMPLETED revision before the current one, but only
 *   within the fleet's rollback window after the last deploy.
 * Reports the deployment to wait for.
 */
import {
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListServiceDeploymentsCommand,
  type Deployment,
} from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, executionIdSchema } from '../shared/domain/deploy-plan';
import { RollbackRefusedError, ServiceStateError } from '../shared/runtime/errors';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';
import { rollbackPlanSchema, type RollbackPlan } from '../shared/domain/rollback-plan';
import { restartWithLoadBalancer } from '../shared/domain/deployment-strategy';
import { rollBackInFlightDeployment, startRollout } from '../shared/domain/service-deployments';

interface RollbackStarted {
  readonly action: 'stopped-in-flight-deployment' | 'redeployed-named-revision' | 'redeployed-previous-revision';
  readonly deploymentId: string;
  readonly taskDefinitionArn: string;
  readonly startedAt: string;
  readonly why: string;
}

type Deps = HandlerDeps<'ecs' | 'dynamodb'>;
const revisionName = (arn: string): string => arn.split('/').pop() ?? arn;

export const rollBackService = defineHandler({
  name: 'roll-back-service',
  description: 'Stops an in-flight deployment with rollback, or returns the service to its last COMPLETED (or a named) revision',
  clients: ['dynamodb', 'ecs'],
  input: z.object({ executionId: executionIdSchema, plan: rollbackPlanSchema }),
  core: async ({ executionId, plan }, deps): Promise<RollbackStarted> =>
    audited(
      deps,
      deployAuditAction('rollback.update-service', plan, executionId, { reason: plan.reason }),
      async () => (await stopInFlight(deps, plan)) ?? (await redeploy(deps, plan)),
      (started) => ({ action: started.action, deploymentId: started.deploymentId, taskDefinitionArn: started.taskDefinitionArn }),
    ),
});

async function primaryDeployment(deps: Deps, plan: RollbackPlan): Promise<Deployment> {
  const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: plan.cluster, services: [plan.ecsServiceName] }));
  const primary = described.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY');
  if (!primary?.id || !primary.taskDefinition) throw new ServiceStateError(`${plan.ecsServiceName} has no primary deployment`);
  return primary;
}

async function stopInFlight(deps: Deps, plan: RollbackPlan): Promise<RollbackStarted | undefined> {
  // Nothing in flight (or it finished meanwhile): roll back the settled service instead.
  const stopped = await rollBackInFlightDeployment(deps, plan.cluster, plan.ecsServiceName);
  if (!stopped) return undefined;
  const primary = await primaryDeployment(deps, plan);
  return {
    action: 'stopped-in-flight-deployment',
    deploymentId: primary.id as string,
    taskDefinitionArn: primary.taskDefinition as string,
    startedAt: (primary.updatedAt ?? new Date()).toISOString(),
    why: `stopped ${stopped} with ROLLBACK; ECS returns the service to ${revisionName(primary.taskDefinition as string)}`,
  };
}

async function redeploy(deps: Deps, plan: RollbackPlan): Promise<RollbackStarted> {
  const current = await primaryDeployment(deps, plan);
  const currentArn = current.taskDefinition as string;
  let target: string;
  let action: RollbackStarted['action'];
  if (plan.targetRevision !== null) {
    const family = revisionName(currentArn).split(':')[0] ?? plan.ecsServiceName;
    const described = await deps.clients.ecs
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:${plan.targetRevision}` }))
      .catch((error: unknown) => {
        if ((error as Error).name === 'ClientException') throw new RollbackRefusedError(`${family}:${plan.targetRevision} does not exist`, { cause: error });
        throw error;
      });
    target = described.taskDefinition?.taskDefinitionArn ?? '';
    if (described.taskDefinition?.status !== 'ACTIVE') throw new RollbackRefusedError(`${family}:${plan.targetRevision} is not ACTIVE`);
    if (target === currentArn) throw new RollbackRefusedError(`${plan.service} already runs ${revisionName(target)}`);
    action = 'redeployed-named-revision';
  } else {
    target = await previousCompletedRevision(deps, plan, currentArn);
    action = 'redeployed-previous-revision';
  }
  const { deploymentId, startedAt } = await startRollout(deps, plan, target, restartWithLoadBalancer(plan, deps.config));
  return {
    action,
    deploymentId,
    taskDefinitionArn: target,
    startedAt,
    why: `${revisionName(currentArn)} → ${revisionName(target)}`,
  };
}

/** The task definition of the newest SUCCESSFUL service deployment before the current one, within the window. */
async function previousCompletedRevision(deps: Deps, plan: RollbackPlan, currentArn: string): Promise<string> {
  const history = await deps.clients.ecs.send(
    new ListServiceDeploymentsCommand({ cluster: plan.cluster, service: plan.ecsServiceName, status: ['SUCCESSFUL'], maxResults: 20 }),
  );
  const completed = (history.serviceDeployments ?? []).filter((d) => d.targetServiceRevisionArn);
  const latest = completed[0];
  if (!latest?.finishedAt) throw new RollbackRefusedError(`${plan.service} has no completed deployment on record`);
  const sinceSeconds = (Date.now() - latest.finishedAt.getTime()) / 1000;
  if (sinceSeconds > plan.rollbackWindowSeconds) {
    throw new RollbackRefusedError(
      `${plan.service}'s last deployment finished ${Math.round(sinceSeconds / 60)} minutes ago, outside the ${Math.round(plan.rollbackWindowSeconds / 60)}-minute rollback window; name a revision to roll back to`,
    );
  }
  const revisions = await deps.clients.ecs.send(
    new DescribeServiceRevisionsCommand({ serviceRevisionArns: completed.map((d) => d.targetServiceRevisionArn as string).slice(0, 20) }),
  );
  const byArn = new Map((revisions.serviceRevisions ?? []).map((r) => [r.serviceRevisionArn, r.taskDefinition]));
  const previous = completed.map((d) => byArn.get(d.targetServiceRevisionArn)).find((arn) => arn && arn !== currentArn);
  if (!previous) throw new RollbackRefusedError(`${plan.service} has no earlier completed revision than ${revisionName(currentArn)}`);
  return previous;
}
