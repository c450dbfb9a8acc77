/**
 * A rollback stops the deploy that holds the service's lock, so that the deploy
 * does not fight it; the deploy is then recorded FAILED (finalize-interrupted-deploy)
 * and the rollback takes over its lock.
 */
import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { readDeployLock } from '../shared/domain/deploy-lock';
import { deployAuditAction, executionIdSchema, serviceTargetSchema } from '../shared/domain/deploy-plan';
import { isExecutionOf } from '../shared/domain/executions';
import { defineHandler } from '../shared/runtime/handler';

export const stopDeployForRollback = defineHandler({
  name: 'stop-deploy-for-rollback',
  description: "Stops the deploy execution that holds the service's lock, if one is running",
  clients: ['dynamodb', 'sfn'],
  input: z.object({ executionId: executionIdSchema, plan: serviceTargetSchema }),
  core: async ({ executionId, plan }, deps): Promise<{ executionArn: string | null }> => {
    const owner = (await readDeployLock(deps, plan.service))?.owner;
    if (!owner || !isExecutionOf(deps.config.stateMachineArns.deploy, owner)) return { executionArn: null };
    const described = await deps.clients.sfn.send(new DescribeExecutionCommand({ executionArn: owner }));
    if (described.status !== 'RUNNING') return { executionArn: owner };
    return audited(
      deps,
      deployAuditAction('rollback.stop-deploy', plan, executionId, { reason: plan.reason, before: { deployExecution: owner } }),
      async () => {
        await deps.clients.sfn.send(
          new StopExecutionCommand({ executionArn: owner, error: 'StoppedForRollback', cause: `Rollback ${executionId}: ${plan.reason}`.slice(0, 32_000) }),
        );
        return { executionArn: owner };
      },
      (stopped) => ({ ...stopped }),
    );
  },
});
