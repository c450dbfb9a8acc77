/** The rollback workflow's plan: the service target plus what the request asked for. */
import * as z from 'zod';
import { serviceTargetSchema } from './deploy-plan';

export const rollbackPlanSchema = serviceTargetSchema.extend({
  source: z.string(),
  /** The revision an engineer asked for; otherwise the last COMPLETED one before the current. */
  targetRevision: z.number().int().nullable(),
  /** A settled service is returned to its previous revision only this long after its last deploy. */
  rollbackWindowSeconds: z.number().int().min(0),
});
export type RollbackPlan = z.output<typeof rollbackPlanSchema>;

export const rollbackResultSchema = z.object({
  action: z.string(),
  deploymentId: z.string(),
  taskDefinitionArn: z.string(),
  startedAt: z.string(),
});
