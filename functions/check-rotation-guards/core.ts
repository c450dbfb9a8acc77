/**
 * Finds the services a rotation must redeploy, before anything changes: the
 * fleet file's consumers cross-checked against the task definitions the
 * services run. Decisions (README "Rotating a secret"):
 *
 * - a service whose task definition references the secret but that the fleet
 *   file does not list would be left holding a value that no longer exists: an
 *   Assure rotation is refused (SecretConsumersMismatchError) naming it; after a
 *   rotation Secrets Manager already made, it is redeployed with the others;
 * - a listed consumer that does not reference the secret holds nothing to
 *   replace: it is not redeployed, and the outcome flags the stale fleet file;
 * - a consumer with a rollout in progress refuses the rotation;
 * - a halt does not: rotating a credential is often why trading was halted, and
 *   tasks started during the halt read the flag and stay halted.
 */
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { secretConsumers } from '../../lib/fleet/fleet-queries';
import { audited } from '../shared/domain/audit';
import { executionIdSchema, serviceTarget } from '../shared/domain/deploy-plan';
import { DeploymentInProgressError, SecretConsumersMismatchError, ServiceStateError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { readHaltFlag } from '../shared/domain/halt-flag';
import { type ConsumerTarget, referencesSecret, rotationAuditAction, type RotationGuards, rotationPlanSchema } from '../shared/domain/rotation-plan';

export const checkRotationGuards = defineHandler({
  name: 'check-rotation-guards',
  description: "Cross-checks a secret's consumers against the services' task definitions and refuses an unsafe rotation",
  clients: ['dynamodb', 'ecs', 'ssm'],
  input: z.object({ executionId: executionIdSchema, plan: rotationPlanSchema }),
  core: async ({ executionId, plan }, deps): Promise<RotationGuards> =>
    audited(
      deps,
      rotationAuditAction('secret.rotate.check-consumers', plan, executionId),
      async () => {
        const { fleet } = deps;
        const services = Object.values(fleet.services);
        const described = new Map<string, Service>();
        for (let i = 0; i < services.length; i += 10) {
          const batch = services.slice(i, i + 10);
          const result = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: fleet.cluster, services: batch.map((s) => s.ecsServiceName) }));
          for (const service of result.services ?? []) if (service.serviceName) described.set(service.serviceName, service);
        }
        const definitions = new Map<string, boolean>();
        const referencing = new Set<string>();
        for (const service of services) {
          const ecsService = described.get(service.ecsServiceName);
          if (!ecsService || ecsService.status !== 'ACTIVE') continue;
          // Every deployment's revision: a rollout in flight can still start tasks of the old one.
          for (const taskDefinition of new Set((ecsService.deployments ?? []).map((d) => d.taskDefinition).filter((t): t is string => t !== undefined))) {
            if (!definitions.has(taskDefinition)) {
              const definition = (await deps.clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }))).taskDefinition;
              const refs = (definition?.containerDefinitions ?? []).some((c) =>
                (c.secrets ?? []).some((s) => s.valueFrom !== undefined && referencesSecret(s.valueFrom, { arn: plan.secretArn, name: plan.secretName })),
              );
              definitions.set(taskDefinition, refs);
            }
            if (definitions.get(taskDefinition)) referencing.add(service.id);
          }
        }

        const listed = secretConsumers(fleet, plan.secret);
        const notReferencing = listed.filter((id) => !referencing.has(id));
        const unlisted = fleet.deployOrder.filter((id) => referencing.has(id) && !listed.includes(id));
        if (unlisted.length > 0 && plan.source !== 'rotation-event') {
          throw new SecretConsumersMismatchError(
            `Rotation refused: ${unlisted.join(', ')} ${unlisted.length === 1 ? 'references' : 'reference'} ${plan.secretName} in ${unlisted.length === 1 ? 'its' : 'their'} task definition but ${unlisted.length === 1 ? 'is' : 'are'} not listed in secrets.${plan.secret}.consumers: a rotation would leave ${unlisted.length === 1 ? 'it' : 'them'} on the old value. Add ${unlisted.length === 1 ? 'it' : 'them'} to the fleet file (or remove the reference) and try again.`,
          );
        }
        const ids = fleet.deployOrder.filter((id) => referencing.has(id));

        const consumers: ConsumerTarget[] = [];
        const leaseSeconds = (target: ConsumerTarget): number =>
          // Every consumer redeployed twice (rotation and restore), each up to the progress deadline plus its health gate, and margin.
          Math.max(target.lockLeaseSeconds, ids.length * 2 * (target.progressDeadlineSeconds + 10 * 60) + 15 * 60);
        for (const id of ids) {
          const service = fleet.services[id];
          const ecsService = service ? described.get(service.ecsServiceName) : undefined;
          if (!service || !ecsService) throw new ServiceStateError(`ECS service for ${id} is missing`);
          const deployments = ecsService.deployments ?? [];
          const primary = deployments.find((d) => d.status === 'PRIMARY');
          if (deployments.length !== 1 || primary?.rolloutState !== 'COMPLETED') {
            throw new DeploymentInProgressError(
              `Rotation refused: consumer ${id} has a rollout that is not finished (deployment ${primary?.id ?? 'unknown'}, ${primary?.rolloutState ?? 'unknown state'}, ${deployments.length} deployments)`,
            );
          }
          const target = serviceTarget(fleet, service, { requestedBy: plan.requestedBy, reason: `${plan.reason} (${plan.secretName} rotation)` });
          consumers.push({ ...target, lockLeaseSeconds: leaseSeconds(target) });
        }
        const halt = await readHaltFlag(deps);
        return { consumers, notReferencing, unlisted, tradingHalted: !halt.readable || halt.flag.halted };
      },
      (guards) => ({
        consumers: guards.consumers.map((c) => c.service),
        notReferencing: guards.notReferencing,
        unlisted: guards.unlisted,
        tradingHalted: guards.tradingHalted,
      }),
    ),
});
