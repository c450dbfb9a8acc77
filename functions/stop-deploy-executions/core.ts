/**
 * Stops every running deploy execution (new ones are refused while the flag is
 * set), and rolls back the ECS deployment each left in flight: a release that
 * was never verified must not be what capacity comes back with on resume.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { deployedServiceOf } from '../shared/domain/executions';
import { defineHandler } from '../shared/runtime/handler';
import { haltSchema, haltAuditAction } from '../shared/domain/halt-plan';
import { rollBackInFlightDeployment } from '../shared/domain/service-deployments';

export const stopDeployExecutions = defineHandler({
  name: 'stop-deploy-executions',
  description: 'Stops every running deploy execution when trading halts, rolling back the ECS deployments they left in flight',
  clients: ['dynamodb', 'sfn', 'ecs'],
  input: z.object({ executionId: executionIdSchema, halt: haltSchema }),
  core: async ({ executionId, halt }, deps) =>
    audited(
      deps,
      haltAuditAction('halt.stop-deploys', halt, executionId),
      async () => {
        const stopped: string[] = [];
        const rolledBack: string[] = [];
        let nextToken: string | undefined;
        do {
          const page = await deps.clients.sfn.send(
            new ListExecutionsCommand({ stateMachineArn: deps.config.stateMachineArns.deploy, statusFilter: 'RUNNING', nextToken }),
          );
          for (const execution of page.executions ?? []) {
            if (!execution.executionArn) continue;
            await deps.clients.sfn.send(
              new StopExecutionCommand({ executionArn: execution.executionArn, error: 'TradingHalted', cause: `Halt ${halt.haltId}: ${halt.reason}` }),
            );
            stopped.push(execution.executionArn);
            const described = await deps.clients.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
            const service = deployedServiceOf(deps.fleet, described.input);
            if (service && (await rollBackInFlightDeployment(deps, deps.fleet.cluster, service.ecsServiceName))) rolledBack.push(service.id);
          }
          nextToken = page.nextToken;
        } while (nextToken);
        return { stopped, rolledBack };
      },
      (result) => ({ stopped: result.stopped, rolledBack: result.rolledBack }),
    ),
});
