/**
 * "Decide desired count": reads what the decision needs (ECS's desired and
 * running counts and its rollouts, the halt flag, the service's deploy lock,
 * the cooldowns), decides (functions/shared/domain/scaling.ts), and for a change takes
 * the direction's cooldown with a conditional write, so two executions racing
 * on the same service cannot both scale the same way within one cooldown.
 */
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { isLeaseLive, readDeployLock } from '../shared/domain/deploy-lock';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { executionName } from '../shared/domain/executions';
import { AwsTransientError, ServiceStateError } from '../shared/runtime/errors';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';
import { readHaltFlag } from '../shared/domain/halt-flag';
import {
  decideScaling,
  type HaltView,
  type ScaleDecision,
  type ScaleDirection,
  type ScalePlan,
  scalePlanSchema,
  scalingCooldownKey,
} from '../shared/domain/scaling';

type DecideDeps = HandlerDeps<'dynamodb' | 'ssm' | 'ecs'>;

export const decideScalingHandler = defineHandler({
  name: 'decide-scaling',
  description: 'Decides a scaling change from ECS, the halt flag, the deploy lock and the cooldowns, and takes the cooldown for a change',
  clients: ['dynamodb', 'ssm', 'ecs'],
  input: z.object({ executionId: executionIdSchema, plan: scalePlanSchema }),
  core: async ({ executionId, plan }, deps): Promise<ScaleDecision> =>
    audited(
      deps,
      { action: 'scale.decide', subject: plan.service, actor: plan.requestedBy, source: plan.source, executionId, reason: plan.reason },
      () => decide(deps, plan, executionId),
      (decision) => ({ ...decision }),
    ),
});

async function decide(deps: DecideDeps, plan: ScalePlan, executionId: string): Promise<ScaleDecision> {
  const now = Date.now();
  const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: plan.cluster, services: [plan.ecsServiceName] }));
  const service = described.services?.[0];
  if (!service || service.status !== 'ACTIVE') {
    throw new ServiceStateError(
      `ECS service ${plan.ecsServiceName} in cluster ${plan.cluster} cannot be scaled: ${described.failures?.[0]?.reason ?? service?.status ?? 'MISSING'}`,
    );
  }
  const [halt, deploying, cooldownOut, cooldownIn] = await Promise.all([
    haltView(deps, plan.service),
    deploymentRunning(deps, plan, service.deployments ?? [], now),
    cooldownUntil(deps, plan.service, 'scale-out', executionId),
    cooldownUntil(deps, plan.service, 'scale-in', executionId),
  ]);
  const decision = decideScaling({
    plan,
    desired: service.desiredCount ?? 0,
    running: service.runningCount ?? 0,
    deploying,
    halt,
    cooldownUntil: { 'scale-out': cooldownOut, 'scale-in': cooldownIn },
    now,
  });
  if (decision.outcome !== 'scale' || !decision.direction) return decision;
  // Automation settings cover every automatic source; the router already applies them to alarms before starting anything.
  if (plan.kind !== 'manual') {
    const { automation, dryRun } = deps.fleet.guardRails;
    if (automation === 'notify-only') return { ...decision, outcome: 'suppressed', reason: `automation is notify-only: would ${decision.reason}` };
    if (dryRun) return { ...decision, outcome: 'dry-run', reason: `dry run: would ${decision.reason}` };
  }
  const until = now + plan.cooldownSeconds[decision.direction] * 1000;
  const claimed = await claimScalingCooldown(deps, plan, decision.direction, until, executionId);
  if (!claimed) {
    const holder = await cooldownUntil(deps, plan.service, decision.direction, executionId);
    return {
      ...decision,
      outcome: 'refused',
      refusal: 'cooldown',
      reason: `did nothing because ${plan.service} is in its ${decision.direction} cooldown${holder ? ` until ${new Date(holder).toISOString()}` : ''}, taken by another action just now (would ${decision.reason})`,
    };
  }
  return decision;
}

/** The halt flag as the decision sees it: any error other than throttling counts as unreadable (scale-out fails closed). */
async function haltView(deps: DecideDeps, service: string): Promise<HaltView> {
  try {
    const reading = await readHaltFlag(deps);
    return reading.readable
      ? {
          readable: true,
          // A halt limited to named services halts only those.
          halted: reading.flag.halted && (!reading.flag.services || reading.flag.services.includes(service)),
          ...(reading.flag.haltId ? { haltId: reading.flag.haltId } : {}),
          ...(reading.flag.reason ? { reason: reading.flag.reason } : {}),
        }
      : { readable: false, problem: reading.problem };
  } catch (error) {
    if (error instanceof AwsTransientError) throw error;
    return { readable: false, problem: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** A live deploy lock (a deploy or a rollback), or a rollout ECS reports in progress. */
async function deploymentRunning(
  deps: DecideDeps,
  plan: ScalePlan,
  deployments: readonly { id?: string | undefined; status?: string | undefined; rolloutState?: string | undefined }[],
  now: number,
): Promise<string | null> {
  const lock = await readDeployLock(deps, plan.service);
  if (lock && isLeaseLive(lock, now)) return `deploy lock held by ${executionName(lock.owner)}`;
  const rolling = deployments.find((d) => d.rolloutState === 'IN_PROGRESS');
  if (rolling) return `ECS deployment ${rolling.id ?? 'unknown'} is IN_PROGRESS`;
  if (deployments.length > 1) return `ECS runs ${deployments.length} deployments of the service`;
  return null;
}

/** Until when a cooldown holds (epoch ms), or null; this execution's own claim does not count (a retried step). */
async function cooldownUntil(deps: DecideDeps, service: string, direction: ScaleDirection, executionId: string): Promise<number | null> {
  const result = await deps.clients.dynamodb.send(
    new GetItemCommand({ TableName: deps.config.stateTableName, Key: marshall({ pk: scalingCooldownKey(service, direction) }), ConsistentRead: true }),
  );
  const item = result.Item ? unmarshall(result.Item) : undefined;
  if (!item || item.claimId === executionId) return null;
  const until = Date.parse(String(item.until));
  return Number.isFinite(until) ? until : null;
}

/**
 * Takes the direction's cooldown. Automatic actions only while none holds (or it is
 * already theirs: a retried step); a manual action starts the cooldown whatever holds.
 */
async function claimScalingCooldown(deps: DecideDeps, plan: ScalePlan, direction: ScaleDirection, untilMs: number, executionId: string): Promise<boolean> {
  const item = marshall({
    pk: scalingCooldownKey(plan.service, direction),
    claimId: executionId,
    source: plan.source,
    until: new Date(untilMs).toISOString(),
    expiresAt: Math.floor(untilMs / 1000),
  });
  try {
    await deps.clients.dynamodb.send(
      plan.kind === 'manual'
        ? new PutItemCommand({ TableName: deps.config.stateTableName, Item: item })
        : new PutItemCommand({
            TableName: deps.config.stateTableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR claimId = :me',
            ExpressionAttributeValues: marshall({ ':now': Math.floor(Date.now() / 1000), ':me': executionId }),
          }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
