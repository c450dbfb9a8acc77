/**
 * Registers a task-definition revision copied from the service's current one with
 * only the deployed container's image changed. Re-running it (a retried step)
 * reuses the family's latest revision when that is already the wanted definition.
 */
import {
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, deployPlanSchema, executionIdSchema, serviceBaselineSchema } from '../shared/domain/deploy-plan';
import { ServiceStateError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';

/** The fields of a described task definition that RegisterTaskDefinition accepts. */
const REGISTRABLE_FIELDS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const satisfies readonly (keyof RegisterTaskDefinitionCommandInput & keyof TaskDefinition)[];

export function registrableCopy(definition: TaskDefinition, tags: readonly Tag[] | undefined): RegisterTaskDefinitionCommandInput {
  const copy: Record<string, unknown> = {};
  for (const field of REGISTRABLE_FIELDS) {
    if (definition[field] !== undefined) copy[field] = structuredClone(definition[field]);
  }
  if (tags && tags.length > 0) copy.tags = [...tags];
  return copy as unknown as RegisterTaskDefinitionCommandInput;
}

/** JSON with sorted keys, so two definitions compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export const registerTaskDefinition = defineHandler({
  name: 'register-task-definition',
  description: "Registers a task-definition revision that changes only the deployed container's image",
  clients: ['dynamodb', 'ecs'],
  input: z.object({ executionId: executionIdSchema, plan: deployPlanSchema, baseline: serviceBaselineSchema }),
  core: async ({ executionId, plan, baseline }, deps) =>
    audited(
      deps,
      deployAuditAction('deploy.register-task-definition', plan, executionId, { before: { taskDefinitionArn: baseline.previousTaskDefinitionArn } }),
      async () => {
        const current = await deps.clients.ecs.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: baseline.previousTaskDefinitionArn, include: ['TAGS'] }),
        );
        if (!current.taskDefinition) throw new ServiceStateError(`Task definition ${baseline.previousTaskDefinitionArn} not found`);
        const wanted = registrableCopy(current.taskDefinition, current.tags);
        const container = wanted.containerDefinitions?.find((c) => c.name === plan.container);
        if (!container) {
          throw new ServiceStateError(
            `Task definition ${baseline.previousTaskDefinitionArn} has no container named ${plan.container} (it has ${(wanted.containerDefinitions ?? []).map((c) => c.name).join(', ')})`,
          );
        }
        container.image = plan.image;

        // The current revision, or the family's newest, may already be exactly what we want.
        const latest = await deps.clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: wanted.family, include: ['TAGS'] }));
        for (const candidate of [current, latest]) {
          if (candidate.taskDefinition && canonical(registrableCopy(candidate.taskDefinition, candidate.tags)) === canonical(wanted)) {
            return {
              taskDefinitionArn: candidate.taskDefinition.taskDefinitionArn as string,
              revision: candidate.taskDefinition.revision as number,
              reused: true,
            };
          }
        }
        const registered = await deps.clients.ecs.send(new RegisterTaskDefinitionCommand(wanted));
        const definition = registered.taskDefinition;
        if (!definition?.taskDefinitionArn || definition.revision === undefined) {
          throw new ServiceStateError('RegisterTaskDefinition returned no task definition');
        }
        return { taskDefinitionArn: definition.taskDefinitionArn, revision: definition.revision, reused: false };
      },
      (revision) => ({ ...revision }),
    ),
});
