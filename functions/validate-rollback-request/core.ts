/**
 * First state of the rollback workflow: checks the request against the fleet and
 * resolves the service's settings into the plan.
 */
import * as z from 'zod';
import { writeAuditRecord } from '../shared/domain/audit';
import { executionIdSchema, serviceTarget } from '../shared/domain/deploy-plan';
import { requestValidation } from '../shared/domain/request-validation';
import { defineHandler } from '../shared/runtime/handler';
import type { RollbackPlan } from '../shared/domain/rollback-plan';

/** The documented input of the rollback state machine. */
export const rollbackRequestSchema = z.strictObject({
  service: z.string().min(1, 'is required'),
  reason: z.string().min(1, 'is required').max(500),
  /** Where the request came from: `console`, `cli`, `alarm:<name>`, ... */
  source: z.string().min(1).max(200).default('console'),
  requestedBy: z.string().min(1).max(128).optional(),
  /** Return to this task-definition revision instead of the last COMPLETED one. */
  targetRevision: z.number().int().min(1).optional(),
});

export const validateRollbackRequest = defineHandler({
  name: 'validate-rollback-request',
  description: 'Validates a rollback request against the fleet file and resolves the rollback plan',
  clients: ['dynamodb'],
  input: z.object({ executionId: executionIdSchema, request: z.unknown() }),
  core: async ({ executionId, request }, deps) => {
    const validation = requestValidation(deps, 'rollback', { executionId, request });
    const parsed = await validation.parse(rollbackRequestSchema);
    const { service: serviceId, reason, source, requestedBy, targetRevision } = parsed;
    const service = await validation.service(serviceId);
    const plan: RollbackPlan = {
      ...serviceTarget(deps.fleet, service, { requestedBy: requestedBy ?? source, reason }),
      source,
      targetRevision: targetRevision ?? null,
      rollbackWindowSeconds: Math.round(deps.fleet.guardRails.rollbackWindowMinutes * 60),
    };
    await writeAuditRecord(deps, {
      action: 'rollback',
      subject: serviceId,
      actor: plan.requestedBy,
      source,
      executionId,
      reason,
      phase: 'intent',
      status: 'started',
      at: new Date().toISOString(),
      ...(targetRevision ? { before: { requestedRevision: targetRevision } } : {}),
    });
    // Every key later states read exists from here on.
    return { request: parsed, plan, stopped: null, lock: null, rollback: null, failure: null };
  },
});
