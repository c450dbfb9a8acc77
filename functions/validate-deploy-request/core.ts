/**
 * First state of the deploy workflow: checks the request against the fleet file and
 * resolves everything later steps need into a deploy plan.
 */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { type DeployPlan, executionIdSchema, serviceTarget } from '../shared/domain/deploy-plan';
import { requestValidation } from '../shared/domain/request-validation';
import { defineHandler } from '../shared/runtime/handler';

const imageTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const imageDigest = /^sha256:[a-f0-9]{64}$/;

/** The documented input of the deploy state machine. */
export const deployRequestSchema = z.strictObject({
  service: z.string().min(1, 'is required'),
  image: z.string().min(1, 'is required').max(512),
  requestedBy: z.string().min(1, 'is required').max(128),
  reason: z.string().max(500).optional(),
  /** The release this deploy belongs to, when the release workflow started it. */
  releaseId: z.string().min(1).max(80).optional(),
});
export type DeployRequest = z.output<typeof deployRequestSchema>;

/** The deploy execution's state after this step: the request, the plan, and empty slots for later steps. */
export interface DeployState {
  readonly request: DeployRequest;
  readonly plan: DeployPlan;
  readonly baseline: null;
  readonly revision: null;
  readonly rollout: null;
  readonly failure: null;
  readonly rollback: null;
  readonly rollbackFailure: null;
}

const inputSchema = z.object({
  executionId: executionIdSchema,
  request: z.unknown(),
});

/** Splits `repo:tag` or `repo@sha256:...` into the repository and the reference. */
export function splitImageReference(image: string): { repository: string; reference: string } | undefined {
  const at = image.indexOf('@');
  if (at >= 0) {
    const reference = image.slice(at + 1);
    return imageDigest.test(reference) ? { repository: image.slice(0, at), reference } : undefined;
  }
  const colon = image.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port, not a tag.
  if (colon < 0 || colon < image.lastIndexOf('/')) return undefined;
  const reference = image.slice(colon + 1);
  return imageTag.test(reference) ? { repository: image.slice(0, colon), reference } : undefined;
}

export const validateDeployRequest = defineHandler({
  name: 'validate-deploy-request',
  description: 'Validates a deploy request against the fleet file and resolves the deploy plan',
  clients: ['dynamodb'],
  input: inputSchema,
  core: async ({ executionId, request }, deps): Promise<DeployState> => {
    const validation = requestValidation(deps, 'deploy', { executionId, request });
    const parsed = await validation.parse(deployRequestSchema);
    const { service: serviceId, image, requestedBy, reason } = parsed;

    const service = await validation.service(serviceId);
    const reference = splitImageReference(image);
    if (!reference) {
      return validation.refuse({ subject: serviceId, field: 'image', reason: `must be <repository>:<tag> or <repository>@sha256:<digest>, got ${image}` });
    }
    if (reference.repository !== service.imageRepository) {
      return validation.refuse({ subject: serviceId, field: 'image', reason: `must come from ${service.imageRepository}, got ${reference.repository}` });
    }
    if (service.strategy.type !== 'rolling') {
      return validation.refuse({
        subject: serviceId,
        field: 'service',
        reason: `${serviceId} uses the ${service.strategy.type} strategy, which this deploy workflow does not run yet`,
      });
    }

    const plan: DeployPlan = {
      ...serviceTarget(deps.fleet, service, { requestedBy, reason: reason ?? `deploy ${image}` }),
      image,
      soakSeconds: Math.round(deps.fleet.deploy.soakMinutes * 60),
    };
    await writeAuditRecord(deps, {
      action: 'deploy',
      subject: serviceId,
      actor: requestedBy,
      source: 'step-functions',
      executionId,
      reason: plan.reason,
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
    });
    // Every key later states read exists from here on, so no JSONPath meets a missing field.
    return { request: parsed, plan, baseline: null, revision: null, rollout: null, failure: null, rollback: null, rollbackFailure: null };
  },
});
