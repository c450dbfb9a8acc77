/**
 * The admin API over TLS in the sandbox: the simulated trading services answer
 * only the scheme the fleet configures, and verify the caller's CA bundle and
 * name against their certificate (issued by examples/certs/trading-ca.pem for
 * admin.trading.internal). A halt whose bundle does not verify them reaches no
 * admin API: the services still stop by polling the halt flag, but nobody can
 * confirm it, so the halt escalates them by name, as for any unreachable service.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAuditTrail } from '../../functions/shared/domain/audit';
import type { HttpRequest } from '../../functions/shared/runtime/http';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { fleetWith, openSandbox } from '../support/sandbox';

const TRADING_CA = readFileSync('examples/certs/trading-ca.pem', 'utf8');
/** A CA that issued none of the sandbox's certificates. */
const OTHER_CA = readFileSync('test/fixtures/tls/test-ca.pem', 'utf8');

const halt = async (sandbox: Sandbox) => sandbox.runExecution(await sandbox.startExecution('halt', { reason: 'risk limit breached', actor: 'alice' }));

/** A running task of the service: its private IP and its application's admin port. */
function taskOf(sandbox: Sandbox, service: string): { ip: string; port: number } {
  const record = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, sandbox.fleet.services[service]?.ecsServiceName ?? service);
  const task = record ? sandbox.ecs.serviceTasks(record).find((t) => t.lastStatus === 'RUNNING') : undefined;
  if (!task) throw new Error(`${service} runs no task`);
  return { ip: task.privateIp, port: sandbox.fleet.services[service]?.halt?.adminPort ?? 0 };
}

const status = (sandbox: Sandbox, url: string, tls?: HttpRequest['tls']) => sandbox.http({ method: 'GET', url, timeoutMs: 3_000, ...(tls ? { tls } : {}) });

describe('admin API over TLS (halt.adminApi)', () => {
  it('answers https verified with the fleet CA for admin.trading.internal, and nothing else', async () => {
    const sandbox = await openSandbox();
    const { ip, port } = taskOf(sandbox, 'order-gateway');
    const tls = { ca: TRADING_CA, serverName: 'admin.trading.internal' };

    // Verified, and then refused for want of a token: the request got through.
    await expect(status(sandbox, `https://${ip}:${port}/admin/status`, tls)).resolves.toMatchObject({ status: 401 });
    // Plain HTTP to the TLS port: the connection is dropped.
    await expect(status(sandbox, `http://${ip}:${port}/admin/status`)).rejects.toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
    // No bundle (the public CAs only), or another CA's: the certificate is not trusted.
    await expect(status(sandbox, `https://${ip}:${port}/admin/status`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(status(sandbox, `https://${ip}:${port}/admin/status`, { ...tls, ca: OTHER_CA })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    // The certificate names the service, not the task's IP.
    await expect(status(sandbox, `https://${ip}:${port}/admin/status`, { ca: TRADING_CA })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    // The health port stays plain HTTP.
    await expect(status(sandbox, `https://${ip}:8080/health/deep`, tls)).rejects.toMatchObject({ code: 'EPROTO' });
    await expect(status(sandbox, `http://${ip}:8080/health/deep`)).resolves.toMatchObject({ status: 200 });
  });

  it('halts every trading service through its admin API over https', async () => {
    const sandbox = await openSandbox();

    const record = await halt(sandbox);

    expect(record.status).toBe('SUCCEEDED');
    expect(JSON.parse(record.output ?? '{}')).toMatchObject({ status: 'CONFIRMED', unconfirmed: [] });
    for (const service of ['risk-engine', 'order-gateway']) {
      const record = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, service);
      const tasks = record ? sandbox.ecs.serviceTasks(record).filter((t) => t.lastStatus === 'RUNNING') : [];
      expect(tasks.length).toBeGreaterThan(0);
      // Halted by the admin call itself, not only by the flag the services poll.
      expect(tasks.every((t) => sandbox.applications.app(t.taskArn)?.halt !== undefined)).toBe(true);
    }
  });

  it('with a CA bundle that does not verify the services, escalates them by name and says why', async () => {
    const fleet = fleetWith((raw) => {
      (raw.halt as { adminApi: { caBundle: string } }).adminApi.caBundle = OTHER_CA;
    });
    const sandbox = await openSandbox(fleet);
    const pagesBefore = sandbox.sns.messages.length;

    const record = await halt(sandbox);

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('HaltNotConfirmed');
    // market-data is hard-stopped (no task left to ask); the soft-halted services cannot be asked.
    expect(record.cause).toMatch(/NOT CONFIRMED, act now: risk-engine \(0\/3 tasks confirmed; .+\); order-gateway \(0\/4 tasks confirmed; /);
    const page = sandbox.sns.messages.slice(pagesBefore).find((m) => m.subject?.startsWith('HALT NOT CONFIRMED'));
    expect(page?.subject).toBe('HALT NOT CONFIRMED: risk-engine, order-gateway');
    expect(page?.message).toContain(
      'unreachable TLS certificate refused (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate); checked against halt.adminApi.caBundle and serverName',
    );
    // No admin call got through: no task was halted by one, and no token reached a task.
    const gateway = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, 'order-gateway');
    const tasks = gateway ? sandbox.ecs.serviceTasks(gateway).filter((t) => t.lastStatus === 'RUNNING') : [];
    expect(tasks.some((t) => sandbox.applications.app(t.taskArn)?.halt !== undefined)).toBe(false);
    const outcome = (await readAuditTrail(sandbox, { subject: 'fleet', limit: 50 })).find((r) => r.action === 'halt' && r.phase === 'outcome');
    expect(outcome?.after).toMatchObject({ status: 'ESCALATED', unconfirmed: ['risk-engine', 'order-gateway'] });
  });
});
