/** Tells every halted trading service to resume (POST /admin/resume), every task of it. */
import * as z from 'zod';
import { callAdminApi, readAdminToken } from '../shared/domain/admin-api';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { ServiceStateError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { approvalDecisionSchema, resumeSchema, resumeAuditAction } from '../shared/domain/resume-plan';

export const sendResumeCommands = defineHandler({
  name: 'send-resume-commands',
  description: "Calls every halted trading service's POST /admin/resume on each running task",
  clients: ['dynamodb', 'ecs', 'secretsManager'],
  input: z.object({ executionId: executionIdSchema, resume: resumeSchema, approval: approvalDecisionSchema }),
  core: async ({ executionId, resume, approval }, deps) =>
    audited(
      deps,
      resumeAuditAction('resume.command-services', resume, executionId, approval.approvedBy),
      async () => {
        const token = await readAdminToken(deps);
        if (!token) return { services: [] };
        const services = [];
        for (const id of resume.services) {
          const service = deps.fleet.services[id];
          if (!service) continue;
          const answers = await callAdminApi(deps, service, token, 'POST', '/admin/resume', { haltId: resume.haltId });
          const failed = answers.filter((a) => a.status !== 200);
          if (failed.length > 0) {
            throw new ServiceStateError(`${id} did not accept the resume: ${failed.map((a) => `${a.task} (${a.ip}): ${a.status} ${a.body}`).join('; ')}`);
          }
          services.push({ service: id, tasks: answers.length });
        }
        return { services };
      },
      (result) => ({ services: result.services }),
    ),
});
