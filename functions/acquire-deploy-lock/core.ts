/**
 * One deployment per service at a time: a DynamoDB lease lock with the execution
 * as owner token. A lease that has run out can be taken over; the same execution
 * re-acquiring (a retried step) succeeds.
 */
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { deployAuditAction, serviceTargetSchema, executionIdSchema } from '../shared/domain/deploy-plan';
import { DeployLockHeldError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';

export const lockKey = (service: string): Record<string, { S: string }> => ({ pk: { S: `service#${service}` } });

export const acquireDeployLock = defineHandler({
  name: 'acquire-deploy-lock',
  description: "Takes the service's deploy lock (a DynamoDB lease) for this execution",
  clients: ['dynamodb'],
  input: z.object({
    executionId: executionIdSchema,
    plan: serviceTargetSchema.extend({ image: z.string().optional() }),
    /** A stopped execution whose lock this one may take over (a rollback that stopped a deploy). */
    takeOverFrom: z.string().nullish(),
  }),
  core: async ({ executionId, plan, takeOverFrom }, deps) => {
    const now = new Date();
    const leaseExpiresAt = Math.floor(now.getTime() / 1000) + plan.lockLeaseSeconds;
    return audited(
      deps,
      deployAuditAction('deploy.acquire-lock', plan, executionId, { reason: plan.reason }),
      async () => {
        try {
          await deps.clients.dynamodb.send(
            new PutItemCommand({
              TableName: deps.config.lockTableName,
              Item: {
                ...lockKey(plan.service),
                ...marshall({
                  owner: executionId,
                  ...(plan.image ? { image: plan.image } : {}),
                  reason: plan.reason,
                  requestedBy: plan.requestedBy,
                  acquiredAt: now.toISOString(),
                  leaseExpiresAt,
                }),
              },
              ConditionExpression: 'attribute_not_exists(pk) OR leaseExpiresAt < :now OR #owner IN (:owner, :stopped)',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: marshall({ ':now': Math.floor(now.getTime() / 1000), ':owner': executionId, ':stopped': takeOverFrom ?? executionId }),
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          const held = await deps.clients.dynamodb.send(
            new GetItemCommand({ TableName: deps.config.lockTableName, Key: lockKey(plan.service), ConsistentRead: true }),
          );
          const holder = held.Item ? unmarshall(held.Item) : undefined;
          throw new DeployLockHeldError(
            holder
              ? `${plan.service} is locked by ${String(holder.owner)} (${holder.image ? `image ${String(holder.image)}` : String(holder.reason)}, requested by ${String(holder.requestedBy)}, lease until ${new Date(Number(holder.leaseExpiresAt) * 1000).toISOString()})`
              : `${plan.service} deploy lock is held by another execution`,
          );
        }
        return { owner: executionId, leaseExpiresAt: new Date(leaseExpiresAt * 1000).toISOString() };
      },
      (lock) => lock,
    );
  },
});
