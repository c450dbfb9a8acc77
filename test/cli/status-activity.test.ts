/**
 * `assure status` leads with the trading state, the executions in flight and
 * the approvals waiting: after a halt it says HALTED (since, by whom, why,
 * which services); a resume waiting for a second person is both in flight and
 * an approval waiting; once approved, trading again and nothing waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FleetActivity } from '../../lib/cli/fleet-activity';
import { runCli } from '../../lib/cli/program';

let state: string;

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'assure-status-activity-'));
});

afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});

async function assure(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await runCli(['--state', state, ...args], { line: (t = '') => out.push(t), error: (t) => out.push(t) });
  return { code, out: out.join('\n') };
}

const activity = async (): Promise<FleetActivity> => JSON.parse((await assure('--json', 'status')).out) as FleetActivity;

describe('assure status: trading state, in flight, approvals waiting', () => {
  it('a fresh fleet trades, with nothing in flight and nothing waiting', async () => {
    expect(await activity()).toMatchObject({ trading: { state: 'TRADING' }, inFlight: [], approvals: [] });
    const text = await assure('status');
    expect(text.code).toBe(0);
    expect(text.out.split('\n').slice(0, 5)).toEqual(['Trading: TRADING', '', 'In flight: none', '', 'Approvals waiting: none']);
  });

  it('leads with HALTED after a halt, then shows the resume waiting for a second person until it is approved', async () => {
    expect((await assure('halt', '--reason', 'venue XLON reports duplicate fills', '--as', 'alice')).code).toBe(0);
    const halted = await activity();
    expect(halted.trading).toMatchObject({
      state: 'HALTED',
      by: 'alice',
      reason: 'venue XLON reports duplicate fills',
      services: ['market-data', 'risk-engine', 'order-gateway'],
    });
    expect(halted.trading.state === 'HALTED' && halted.trading.haltId).toMatch(/^halt-/);
    const text = (await assure('status')).out;
    expect(text).toMatch(/^Trading: HALTED since 2026-01-05T\S+ by alice \(halt-\S+\): venue XLON reports duplicate fills$/m);
    expect(text).toMatch(/^ {2}halted services: market-data, risk-engine, order-gateway$/m);

    const resume = await assure('resume', '--reason', 'venue confirmed the fix', '--as', 'head-of-trading');
    const approvalId = /Approval id: (\S+)\./.exec(resume.out)?.[1] ?? '';
    expect(approvalId).toMatch(/^resume-/);
    const waiting = await activity();
    expect(waiting.trading.state).toBe('HALTED');
    expect(waiting.inFlight).toEqual([expect.objectContaining({ workflow: 'resume', name: approvalId }) as unknown]);
    expect(waiting.approvals).toEqual([
      expect.objectContaining({ approvalId, kind: 'resume', requestedBy: expect.stringContaining('head-of-trading') as unknown }) as unknown,
    ]);
    const waitingText = (await assure('status')).out;
    expect(waitingText).toMatch(new RegExp(`^ {2}resume +${approvalId} +\\S`, 'm'));
    expect(waitingText).toMatch(new RegExp(`^ {2}${approvalId} +resume +\\S*head-of-trading`, 'm'));

    expect((await assure('approve', approvalId, '--as', 'chief-risk-officer')).code).toBe(0);
    expect(await activity()).toMatchObject({
      trading: { state: 'TRADING', lastHaltId: expect.stringMatching(/^halt-/) as unknown },
      inFlight: [],
      approvals: [],
    });
  });
});
