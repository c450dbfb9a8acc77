/**
 * The gradual part of a resume: the hard-stopped services get their capacity
 * back and must be running it, HEALTHY, before any service is told to trade.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { ServiceStateError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { capacitySnapshotKey } from '../shared/domain/halt-plan';
import { approvalDecisionSchema, resumeSchema, resumeAuditAction } from '../shared/domain/resume-plan';

const POLL_INTERVAL_MS = 5_000;
const RESTORE_DEADLINE_MS = 12 * 60_000;

export const restoreCapacity = defineHandler({
  name: 'restore-capacity',
  description: 'Returns the hard-stopped services to their capacity before the halt and waits for it to run',
  clients: ['dynamodb', 'ecs'],
  timeoutSeconds: 900,
  input: z.object({ executionId: executionIdSchema, resume: resumeSchema, approval: approvalDecisionSchema }),
  core: async ({ executionId, resume, approval }, deps) =>
    audited(
      deps,
      resumeAuditAction('resume.restore-capacity', resume, executionId, approval.approvedBy),
      async () => {
        const restored: { service: string; desiredCount: number }[] = [];
        for (const service of Object.values(deps.fleet.services)) {
          const item = (
            await deps.clients.dynamodb.send(
              new GetItemCommand({
                TableName: deps.config.stateTableName,
                Key: marshall({ pk: capacitySnapshotKey(resume.haltId, service.id) }),
                ConsistentRead: true,
              }),
            )
          ).Item;
          if (!item) continue;
          const desiredCount = Number(unmarshall(item).desiredCount);
          await deps.clients.ecs.send(new UpdateServiceCommand({ cluster: deps.fleet.cluster, service: service.ecsServiceName, desiredCount }));
          restored.push({ service: service.id, desiredCount });
        }
        const deadline = Date.now() + RESTORE_DEADLINE_MS;
        for (;;) {
          const lagging = [];
          for (const { service, desiredCount } of restored) {
            const ecsName = deps.fleet.services[service]?.ecsServiceName ?? service;
            const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: deps.fleet.cluster, services: [ecsName] }));
            const running = described.services?.[0]?.runningCount ?? 0;
            if (running < desiredCount) lagging.push(`${service} ${running}/${desiredCount}`);
          }
          if (lagging.length === 0) break;
          if (Date.now() + POLL_INTERVAL_MS > deadline) throw new ServiceStateError(`Capacity did not come back in time: ${lagging.join(', ')}`);
          await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
        }
        return { restored };
      },
      (result) => ({ restored: result.restored }),
    ),
});
