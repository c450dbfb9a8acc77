/**
 * Releases the deploy lock, but only if this execution still owns it: a holder
 * whose lease ran out and was taken over cannot release the new owner's lock.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { lockKey } from '../acquire-deploy-lock/core';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, serviceTargetSchema, executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';

export interface LockRelease {
  readonly released: boolean;
  /** Set when the lock was not ours to release: who holds it now, or that nobody does. */
  readonly heldBy?: string;
}

export const releaseDeployLock = defineHandler({
  name: 'release-deploy-lock',
  description: "Releases the service's deploy lock if this execution still owns it",
  clients: ['dynamodb'],
  input: z.object({ executionId: executionIdSchema, plan: serviceTargetSchema }),
  core: async ({ executionId, plan }, deps): Promise<LockRelease> =>
    audited(
      deps,
      deployAuditAction('deploy.release-lock', plan, executionId),
      async () => {
        try {
          await deps.clients.dynamodb.send(
            new DeleteItemCommand({
              TableName: deps.config.lockTableName,
              Key: lockKey(plan.service),
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: marshall({ ':owner': executionId }),
            }),
          );
          return { released: true };
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          const held = await deps.clients.dynamodb.send(
            new GetItemCommand({ TableName: deps.config.lockTableName, Key: lockKey(plan.service), ConsistentRead: true }),
          );
          const holder = held.Item ? String(unmarshall(held.Item).owner) : 'nobody';
          deps.logger.warn('Deploy lock was not ours to release', { service: plan.service, heldBy: holder });
          return { released: false, heldBy: holder };
        }
      },
      (release) => ({ ...release }),
    ),
});
