/** Tells every task of every halted trading service to halt (POST /admin/halt), in parallel. */
import * as z from 'zod';
import { callAdminApi, readAdminToken } from '../shared/domain/admin-api';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import { haltSchema, haltAuditAction } from '../shared/domain/halt-plan';

export const sendHaltCommands = defineHandler({
  name: 'send-halt-commands',
  description: "Calls every halted trading service's POST /admin/halt on each running task",
  clients: ['dynamodb', 'ecs', 'secretsManager'],
  input: z.object({ executionId: executionIdSchema, halt: haltSchema }),
  core: async ({ executionId, halt }, deps) =>
    audited(
      deps,
      haltAuditAction('halt.command-services', halt, executionId),
      async () => {
        const token = await readAdminToken(deps);
        if (!token) return { sent: false, why: 'the fleet file configures no admin API (halt.adminTokenSecret)', services: [] };
        const services = await Promise.all(
          halt.services.map(async (id) => {
            const service = deps.fleet.services[id];
            if (!service) return { service: id, tasks: 0, acknowledged: 0, failures: ['not in the fleet'] };
            const answers = await callAdminApi(deps, service, token, 'POST', '/admin/halt', { reason: halt.reason, haltId: halt.haltId });
            const failures = answers.filter((a) => a.status !== 200 && a.status !== 202).map((a) => `${a.task} (${a.ip}): ${a.status} ${a.body}`);
            return { service: id, tasks: answers.length, acknowledged: answers.length - failures.length, failures };
          }),
        );
        return { sent: true, why: '', services };
      },
      (result) => ({ sent: result.sent, services: result.services.map((s) => `${s.service}: ${s.acknowledged}/${s.tasks}`) }),
    ),
});
