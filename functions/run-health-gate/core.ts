/**
 * The deep health gate: passes only when the service is HEALTHY on the expected
 * revision (rollout COMPLETED, running = desired, no failed tasks, rollback alarms
 * OK, every task's HTTP health endpoint answering 200). Fails closed otherwise.
 */
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, serviceTargetSchema, executionIdSchema } from '../shared/domain/deploy-plan';
import { HealthGateFailedError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { assessServiceHealth, describeFailedChecks, type HealthReport } from '../shared/domain/service-health';

export const runHealthGate = defineHandler({
  name: 'run-health-gate',
  description: 'Deep health gate on the service and its expected revision; fails unless HEALTHY',
  clients: ['dynamodb', 'ecs', 'cloudwatch'],
  input: z.object({
    executionId: executionIdSchema,
    plan: serviceTargetSchema,
    /** `release` after the rollout, `final` after the soak, `rollback` after a rollback. */
    phase: z.enum(['release', 'final', 'rollback']),
    expectedTaskDefinitionArn: z.string(),
    since: z.string(),
  }),
  core: async ({ executionId, plan, phase, expectedTaskDefinitionArn, since }, deps): Promise<HealthReport> =>
    audited(
      deps,
      deployAuditAction(`deploy.health-gate.${phase}`, plan, executionId),
      async () => {
        const report = await assessServiceHealth(deps, {
          service: plan.service,
          cluster: plan.cluster,
          ecsServiceName: plan.ecsServiceName,
          rollbackAlarmNames: plan.rollbackAlarmNames,
          ...(plan.healthCheck.http ? { http: plan.healthCheck.http } : {}),
          expectedTaskDefinitionArn,
          since,
        });
        deps.logger.info('Health gate report', { phase, status: report.status, checks: report.checks });
        if (report.status !== 'HEALTHY') {
          throw new HealthGateFailedError(`${plan.service} is ${report.status} (${phase} gate): ${describeFailedChecks(report)}`);
        }
        return report;
      },
      (report) => ({ status: report.status, taskDefinitionArn: report.taskDefinitionArn }),
    ),
});
