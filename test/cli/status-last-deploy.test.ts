/**
 * `assure status`'s LAST DEPLOY: a request refused before it changed anything
 * (invalid) stays in the history as refused and is no deployment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../functions/shared/domain/audit';
import type { ServiceStatus } from '../../lib/cli/commands/status';
import { runCli } from '../../lib/cli/program';

let state: string;

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'assure-status-'));
});

afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});

async function assure(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await runCli(['--state', state, ...args], { line: (t = '') => out.push(t), error: () => undefined });
  return { code, out: out.join('\n') };
}

const image = (service: string, tag: string): string => `111122223333.dkr.ecr.eu-west-2.amazonaws.com/${service}:${tag}`;
const statusOf = async (service: string): Promise<ServiceStatus | undefined> =>
  (JSON.parse((await assure('--json', 'status')).out) as { services: ServiceStatus[] }).services.find((s) => s.service === service);

describe('assure status: LAST DEPLOY', () => {
  it('a rejected invalid deploy request does not change the last deployment; the history keeps it as refused', async () => {
    expect((await assure('deploy', 'market-data', '--image', image('market-data', '1.1.0'), '--requested-by', 'alice')).code).toBe(0);
    const before = await statusOf('market-data');
    expect(before?.lastDeployment).toMatchObject({ outcome: 'SUCCEEDED', image: image('market-data', '1.1.0') });

    // An image from another service's repository: refused by validation.
    const invalid = await assure('deploy', 'market-data', '--image', image('risk-engine', '9.9.9'), '--requested-by', 'bob');
    expect(invalid.code).toBe(2);

    expect((await statusOf('market-data'))?.lastDeployment).toEqual(before?.lastDeployment);
    const history = JSON.parse((await assure('--json', 'history', 'market-data')).out) as AuditRecord[];
    const refused = history.find((r) => r.action === 'deploy' && r.error?.name === 'InvalidDeployRequestError');
    expect(refused).toMatchObject({ phase: 'outcome', status: 'failed', actor: 'bob' });
    expect(refused?.error?.message).toContain('must come from');
  });

  it('a service whose only deploy request was invalid has no last deployment', async () => {
    expect((await assure('deploy', 'order-gateway', '--image', 'order-gateway-without-a-tag')).code).toBe(2);

    expect((await statusOf('order-gateway'))?.lastDeployment).toBeNull();
    const table = (await assure('status')).out.split('\n').find((line) => line.startsWith('order-gateway '));
    expect(table).not.toContain('FAILED');
  });
});
