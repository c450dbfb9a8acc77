/**
 * Scales to zero the halted services whose halt policy is `hard`, keeping each
 * one's desired count (the first halt's snapshot stands) for the resume.
 */
import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import { capacitySnapshotKey, haltSchema, haltAuditAction } from '../shared/domain/halt-plan';

export const hardStopServices = defineHandler({
  name: 'hard-stop-services',
  description: 'Scales the hard-stop trading services to zero tasks, keeping their capacity for the resume',
  clients: ['dynamodb', 'ecs'],
  input: z.object({ executionId: executionIdSchema, halt: haltSchema }),
  core: async ({ executionId, halt }, deps) =>
    audited(
      deps,
      haltAuditAction('halt.hard-stop', halt, executionId),
      async () => {
        const hard = halt.services.map((id) => deps.fleet.services[id]).filter((s) => s?.halt?.mode === 'hard');
        const stopped = [];
        for (const service of hard) {
          if (!service) continue;
          const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: deps.fleet.cluster, services: [service.ecsServiceName] }));
          const desired = described.services?.[0]?.desiredCount ?? service.capacity.desired;
          try {
            await deps.clients.dynamodb.send(
              new PutItemCommand({
                TableName: deps.config.stateTableName,
                Item: marshall({ pk: capacitySnapshotKey(halt.haltId, service.id), desiredCount: desired, at: new Date().toISOString() }),
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            );
          } catch (error) {
            // Already scaled to zero by this halt: the snapshot taken before it stands.
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
          await deps.clients.ecs.send(new UpdateServiceCommand({ cluster: deps.fleet.cluster, service: service.ecsServiceName, desiredCount: 0 }));
          stopped.push({ service: service.id, previousDesiredCount: desired });
        }
        return { stopped };
      },
      (result) => ({ stopped: result.stopped }),
    ),
});
