/**
 * Verifies that trading really stopped: within the fleet's deadline, every halted
 * trading service reports `halted: true` with no open orders on every task, or
 * runs no task. Services that do not confirm are returned by name, with evidence.
 */
import * as z from 'zod';
import { callAdminApi, readAdminToken, type AdminToken } from '../shared/domain/admin-api';
import { audited } from '../shared/domain/audit';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';
import { haltSchema, haltAuditAction } from '../shared/domain/halt-plan';

const POLL_INTERVAL_MS = 2_000;

export interface ServiceVerification {
  readonly service: string;
  readonly confirmed: boolean;
  readonly evidence: string;
}

export const verifyHalt = defineHandler({
  name: 'verify-halt',
  description: 'Verifies every halted trading service reports halted with no open orders, or runs no task, before the deadline',
  clients: ['dynamodb', 'ecs', 'secretsManager'],
  timeoutSeconds: 900,
  input: z.object({ executionId: executionIdSchema, halt: haltSchema }),
  core: async ({ executionId, halt }, deps) =>
    audited(
      deps,
      haltAuditAction('halt.verify', halt, executionId),
      async () => {
        const deadlineSeconds = deps.fleet.halt?.verifyDeadlineSeconds ?? 60;
        const deadline = Date.now() + deadlineSeconds * 1000;
        const token = await readAdminToken(deps);
        const verifyAll = (): Promise<ServiceVerification[]> => Promise.all(halt.services.map((id) => verifyService(deps, id, token)));
        let results = await verifyAll();
        while (!results.every((r) => r.confirmed) && Date.now() + POLL_INTERVAL_MS <= deadline) {
          await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
          results = await verifyAll();
        }
        return {
          deadlineSeconds,
          verifiedAt: new Date().toISOString(),
          confirmed: results.filter((r) => r.confirmed),
          unconfirmed: results.filter((r) => !r.confirmed),
        };
      },
      (result) => ({ confirmed: result.confirmed.map((r) => r.service), unconfirmed: result.unconfirmed.map((r) => r.service) }),
    ),
});

async function verifyService(deps: HandlerDeps<'ecs' | 'secretsManager'>, id: string, token: AdminToken | undefined): Promise<ServiceVerification> {
  const service = deps.fleet.services[id];
  if (!service) return { service: id, confirmed: false, evidence: 'not in the fleet file' };
  if (!token) return { service: id, confirmed: false, evidence: 'no admin API configured: cannot ask whether it stopped' };
  const answers = await callAdminApi(deps, service, token, 'GET', '/admin/status');
  if (answers.length === 0) return { service: id, confirmed: true, evidence: 'runs no task' };
  const problems: string[] = [];
  for (const answer of answers) {
    if (answer.status !== 200) {
      problems.push(`${answer.task} (${answer.ip}): ${answer.status} ${answer.body}`);
      continue;
    }
    try {
      const status = JSON.parse(answer.body) as { halted?: unknown; openOrders?: unknown };
      if (status.halted !== true || status.openOrders !== 0) {
        problems.push(`${answer.task} (${answer.ip}): halted=${String(status.halted)}, openOrders=${String(status.openOrders)}`);
      }
    } catch {
      problems.push(`${answer.task} (${answer.ip}): status is not JSON`);
    }
  }
  return problems.length === 0
    ? { service: id, confirmed: true, evidence: `${answers.length}/${answers.length} tasks halted with no open orders` }
    : { service: id, confirmed: false, evidence: `${answers.length - problems.length}/${answers.length} tasks confirmed; ${problems.slice(0, 3).join('; ')}` };
}
