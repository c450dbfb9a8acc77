/**
 * `assure rotate` against the sandbox: separate invocations sharing a state
 * directory, exit codes 0 (rotated and verified) and 2 (invalid request).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../functions/shared/domain/audit';
import { runCli } from '../../lib/cli/program';

let state: string;

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'assure-cli-rotate-'));
});

afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});

async function assure(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--state', state, ...args], { line: (t = '') => out.push(t), error: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('assure rotate', () => {
  it('rotates a secret by name, prints each state and the consumers redeployed, and records it for the next invocation', async () => {
    const rotated = await assure('rotate', 'prod/trading/order-signing-key', '--reason', 'quarterly', '--as', 'alice');
    expect(rotated.code, rotated.out + rotated.err).toBe(0);
    expect(rotated.out).toMatch(/order-signing-key {2}Validate rotation request$/m);
    expect(rotated.out).toMatch(/order-signing-key {2}Redeploy consumers in dependency order$/m);
    expect(rotated.out).toContain('✓ prod/trading/order-signing-key rotated to version');
    // Dependency order: trade-service before order-gateway (which depends, through risk-engine, on position-service and so on trade-service).
    expect(rotated.out).toContain('trade-service, order-gateway redeployed');

    const history = (JSON.parse((await assure('--json', 'history', '--limit', '500')).out) as AuditRecord[]).filter(
      (r) => r.subject === 'secret:order-signing-key',
    );
    expect(
      history
        .filter((r) => r.action === 'secret.rotate')
        .map((r) => `${r.phase}:${r.status}:${r.actor}`)
        .sort(),
    ).toEqual(['intent:started:alice', 'outcome:succeeded:alice']);
  });

  it('exits 2 naming the field for a secret the fleet does not manage', async () => {
    const refused = await assure('rotate', 'prod/unknown-secret');
    expect(refused.code).toBe(2);
    expect(refused.out + refused.err).toMatch(/secret: prod\/unknown-secret is not a managed secret/);
  });
});
