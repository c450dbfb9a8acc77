/** `assure scale` against the sandbox: a manual request bounded by max, a refusal while halted (exit 1), and `scale status`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/cli/program';
import type { ScaleStatus } from '../../lib/cli/commands/scale-status';

let state: string;
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'assure-scale-cli-'));
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

describe('assure scale', () => {
  it('scales order-gateway (bounded by max), shows it in `scale status`, and refuses a scale-out during a halt with exit 1', async () => {
    const scaled = await assure('scale', 'order-gateway', '12', '--reason', 'venue auction', '--as', 'alice');
    expect(scaled.code).toBe(0);
    expect(scaled.out).toContain('order-gateway scaled out 4 → 8');
    expect(scaled.out).toContain('bounded by max 8');

    const status = await assure('--json', 'scale', 'status');
    expect(status.code).toBe(0);
    const [row] = JSON.parse(status.out) as ScaleStatus[];
    expect(row).toMatchObject({
      service: 'order-gateway',
      desired: 8,
      min: 4,
      max: 8,
      lastDecision: { outcome: 'scaled', source: 'cli' },
      nextScheduled: { name: 'london-open', desired: 6 },
    });
    expect(row?.cooldownSeconds['scale-out']).toBeGreaterThan(0);
    const text = await assure('scale', 'status');
    expect(text.out).toMatch(/order-gateway\s+8\s+\d+\s+4\s+8/);
    expect(text.out).toContain('london-open → 6 at 2026-01-05 07:45 UTC');

    await assure('scale', 'order-gateway', '5', '--as', 'alice');
    await assure('halt', '--reason', 'test halt', '--as', 'alice');
    const refused = await assure('scale', 'order-gateway', '7', '--as', 'alice');
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('did nothing because trading is halted');
  });

  it('has `status` as a subcommand, which takes no arguments', async () => {
    const help = await assure('scale', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Commands:\n {2}status /m);
    expect((await assure('scale', 'status', '3')).code).toBe(2);
  });

  it('refuses an invalid request naming the field (exit 2)', async () => {
    expect((await assure('scale', 'order-gateway', 'six')).code).toBe(2);
    const noPolicy = await assure('scale', 'web-gui', '3');
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.out).toContain('service: web-gui has no scaling policy');
  });
});
