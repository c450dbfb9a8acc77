/** Stops every running deploy execution; new ones are refused while the flag is set. */
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { audited } from '../shared/audit';
import { executionIdSchema } from '../shared/deploy-plan';
import { defineHandler } from '../shared/handler';
import { haltSchema } from '../shared/halt-plan';

export const stopDeployExecutions = defineHandler({
  name: 'stop-deploy-executions',
  description: 'Stops every running deploy execution when trading halts',
  clients: ['dynamodb', 'sfn'],
  input: z.object({ executionId: executionIdSchema, halt: haltSchema }),
  core: async ({ executionId, halt }, deps) =>
    audited(
      deps,
      { action: 'halt.stop-deploys', subject: 'fleet', actor: halt.actor, source: halt.source, executionId, reason: halt.reason },
      async () => {
        const stopped: string[] = [];
        let nextToken: string | undefined;
        do {
          const page = await deps.clients.sfn.send(
            new ListExecutionsCommand({ stateMachineArn: deps.config.deployStateMachineArn, statusFilter: 'RUNNING', nextToken }),
          );
          for (const execution of page.executions ?? []) {
            if (!execution.executionArn) continue;
            await deps.clients.sfn.send(
              new StopExecutionCommand({ executionArn: execution.executionArn, error: 'TradingHalted', cause: `Halt ${halt.haltId}: ${halt.reason}` }),
            );
            stopped.push(execution.executionArn);
          }
          nextToken = page.nextToken;
        } while (nextToken);
        return { stopped };
      },
      (result) => ({ stopped: result.stopped }),
    ),
});
