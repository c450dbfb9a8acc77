/**
 * The audit trail nobody can rewrite: every record is a link of its subject's
 * hash chain; concurrent writers never fork it; the table's resource policy
 * denies changing records (sandbox IAM enforces it); and `assure audit verify`
 * finds a record removed or edited behind IAM's back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { type AuditRecord, readAuditTrail, writeAuditRecord } from '../../functions/shared/domain/audit';
import {
  auditRecordHash,
  canonicalJson,
  type ChainLink,
  chainLinkSk,
  GENESIS_HASH,
  type StoredChainRecord,
  verifyAuditChain,
} from '../../functions/shared/domain/audit-chain';
import { createAwsClients } from '../../functions/shared/runtime/clients';
import { readAuditTable, verifyAuditTrail } from '../../lib/cli/commands/audit';
import { EXIT } from '../../lib/cli/exit-codes';
import { runCli } from '../../lib/cli/program';
import { ALL_CLIENT_CLASSES } from '../../lib/sandbox/all-clients';
import type { PolicySet } from '../../lib/sandbox/iam/template-policies';
import { Sandbox } from '../../lib/sandbox/sandbox';
import { openSandbox } from '../support/sandbox';

const FLEET_FILE = 'examples/trading-fleet.yaml';

let state: string | undefined;
afterEach(() => {
  if (state) rmSync(state, { recursive: true, force: true });
  state = undefined;
});

const record = (subject: string, n: number, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  action: 'test.append',
  subject,
  actor: 'assure',
  source: 'test',
  executionId: `arn:aws:states:eu-west-2:111122223333:execution:assure-prod-deploy:writer-${n}`,
  phase: 'intent',
  status: 'started',
  at: new Date(Date.parse('2026-01-05T06:00:00Z') + n * 1000).toISOString(),
  ...overrides,
});

/** A function's clients, as its code gets them: every call authorized as its role. */
function functionDeps(sandbox: Sandbox, suffix: string) {
  const policies = sandbox.iam?.policies as PolicySet;
  const name = Object.keys(policies.functions).find((n) => n.endsWith(suffix));
  const session = name ? sandbox.iam?.functionSession(name) : undefined;
  if (!session) throw new Error(`no function *${suffix}`);
  const clients = createAwsClients(ALL_CLIENT_CLASSES, { region: sandbox.context.region, plugins: [sandbox.transport.plugin(session)] });
  return { clients, config: sandbox.config };
}

/** Raw access to the simulated table, as someone with the account's keys and no IAM in the way (tampering). */
const raw = (sandbox: Sandbox, operation: string, input: Record<string, unknown>): Promise<unknown> =>
  sandbox.dynamodb.handle(operation, { TableName: sandbox.config.auditTableName, ...input });

describe('the hash chain', () => {
  it('hashes the canonical JSON (keys sorted at every depth) of the record without its hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
    const stored = { pk: 'subject#fleet', sk: 's', seq: 1, prevHash: GENESIS_HASH, at: '2026-01-05T06:00:00.000Z' };
    expect(auditRecordHash(stored)).toMatch(/^[0-9a-f]{64}$/);
    expect(auditRecordHash({ ...stored, hash: 'ignored' })).toBe(auditRecordHash(stored));
    expect(auditRecordHash({ ...stored, seq: 2 })).not.toBe(auditRecordHash(stored));
    expect(chainLinkSk(42)).toBe('chain#000000000042');
  });

  it('links each record to the previous one of its subject: seq 1, 2, 3 and each prevHash the previous hash', async () => {
    const sandbox = await openSandbox();
    const deps = functionDeps(sandbox, '-halt-set-halt-flag');
    for (let n = 1; n <= 3; n += 1) await writeAuditRecord(deps, record('chain-test', n));

    const { records, links } = await readAuditTable(sandbox);
    const mine = records.filter((r) => r.subject === 'chain-test').sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    expect(mine.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(mine.map((r) => r.prevHash)).toEqual([GENESIS_HASH, mine[0]?.hash, mine[1]?.hash]);
    for (const r of mine) expect(r.hash).toBe(auditRecordHash(r));
    expect(links.filter((l) => l.pk === 'chain#chain-test').map((l) => [l.sk, l.recordHash])).toEqual(mine.map((r) => [chainLinkSk(r.seq ?? 0), r.hash]));
    // Readers of the trail never see a chain link.
    const trail = await readAuditTrail(sandbox, { limit: 1000 });
    expect(trail.every((r) => typeof r.action === 'string')).toBe(true);
    expect((await readAuditTrail(sandbox, { subject: 'chain-test', limit: 10 })).map((r) => r.executionId.split(':').pop())).toEqual([
      'writer-3',
      'writer-2',
      'writer-1',
    ]);
  });

  it('a retried write of the same record adds nothing: one record, one link', async () => {
    const sandbox = await openSandbox();
    const deps = functionDeps(sandbox, '-halt-set-halt-flag');
    await writeAuditRecord(deps, record('retry-test', 1));
    await writeAuditRecord(deps, record('retry-test', 1));
    const { records, links } = await readAuditTable(sandbox);
    expect(records.filter((r) => r.subject === 'retry-test')).toHaveLength(1);
    expect(links.filter((l) => l.pk === 'chain#retry-test')).toHaveLength(1);
  });

  it('concurrent writers on one subject produce one unbroken chain', async () => {
    const sandbox = await openSandbox();
    const writers = ['-halt-set-halt-flag', '-deploy-acquire-deploy-lock', '-deploy-record-deploy-outcome', '-halt-record-halt-outcome'].map((suffix) =>
      functionDeps(sandbox, suffix),
    );
    await Promise.all(
      Array.from({ length: 12 }, (_, n) => writeAuditRecord(writers[n % writers.length] as ReturnType<typeof functionDeps>, record('fleet-race', n))),
    );

    const { records, links } = await readAuditTable(sandbox);
    const mine = records.filter((r) => r.subject === 'fleet-race');
    expect(mine.map((r) => r.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const [report] = verifyAuditChain(
      mine,
      links.filter((l) => l.pk === 'chain#fleet-race'),
    );
    expect(report).toMatchObject({ subject: 'fleet-race', records: 12, head: 12, breaks: [] });
    // The losers of each race really did retry: some transactions were cancelled on the link.
    expect(sandbox.transport.calls.some((c) => c.operation === 'TransactWriteItems' && c.error === 'TransactionCanceledException')).toBe(true);
  });

  it('verifies a recorded trail: a halt and its resume request leave every subject intact', async () => {
    const sandbox = await openSandbox();
    await sandbox.runExecution(await sandbox.startExecution('halt', { reason: 'risk limit breached', actor: 'alice' }));
    const result = await verifyAuditTrail(sandbox);
    expect(result.ok).toBe(true);
    const fleet = result.subjects.find((s) => s.subject === 'fleet');
    expect(fleet?.records).toBeGreaterThanOrEqual(2);
    expect(fleet?.head).toBe(fleet?.records);
  });
});

describe('verifyAuditChain finds each kind of break', () => {
  /** A three-record chain as the writer would store it. */
  function chain(): { records: StoredChainRecord[]; links: ChainLink[] } {
    const records: StoredChainRecord[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq += 1) {
      const at = `2026-01-05T06:0${seq}:00.000Z`;
      const body = { pk: 'subject#fleet', sk: `${at}#x#halt#intent`, trail: 'trail', subject: 'fleet', action: 'halt', at, seq, prevHash };
      const hash = auditRecordHash(body);
      records.push({ ...body, hash });
      prevHash = hash;
    }
    const links = records.map((r) => ({
      pk: 'chain#fleet',
      sk: chainLinkSk(r.seq ?? 0),
      kind: 'audit-chain-link' as const,
      recordSk: r.sk,
      recordHash: r.hash ?? '',
    }));
    return { records, links };
  }

  it('an intact chain', () => {
    const { records, links } = chain();
    expect(verifyAuditChain(records, links)).toEqual([{ subject: 'fleet', records: 3, head: 3, preChain: 0, breaks: [] }]);
  });

  it('a record edited in place', () => {
    const { records, links } = chain();
    records[1] = { ...(records[1] as StoredChainRecord), actor: 'mallory' };
    expect(verifyAuditChain(records, links)[0]?.breaks).toEqual([expect.objectContaining({ seq: 2, kind: 'edited' })]);
  });

  it('a record edited and re-hashed: its link still holds the original hash', () => {
    const { records, links } = chain();
    const edited = { ...(records[1] as StoredChainRecord), actor: 'mallory' };
    records[1] = { ...edited, hash: auditRecordHash(edited) };
    const breaks = verifyAuditChain(records, links)[0]?.breaks ?? [];
    expect(breaks).toContainEqual(expect.objectContaining({ seq: 2, kind: 'edited' }));
  });

  it('a record removed, in the middle and at the end', () => {
    const { records, links } = chain();
    expect(verifyAuditChain([records[0], records[2]] as StoredChainRecord[], links)[0]?.breaks).toEqual([expect.objectContaining({ seq: 2, kind: 'gap' })]);
    expect(verifyAuditChain(records.slice(0, 2), links)[0]?.breaks).toEqual([expect.objectContaining({ seq: 3, kind: 'gap' })]);
    // Record and link both removed from the middle: the seq numbers still skip one.
    expect(verifyAuditChain([records[0], records[2]] as StoredChainRecord[], [links[0], links[2]] as ChainLink[])[0]?.breaks).toEqual([
      expect.objectContaining({ seq: 2, kind: 'gap' }),
    ]);
  });

  it('a second record claiming a seq (a fork), and a record written outside the chain', () => {
    const { records, links } = chain();
    const twin = { ...(records[2] as StoredChainRecord), sk: '2026-01-05T06:03:30.000Z#y#halt#intent', at: '2026-01-05T06:03:30.000Z' };
    expect(verifyAuditChain([...records, { ...twin, hash: auditRecordHash(twin) }], links)[0]?.breaks).toContainEqual(
      expect.objectContaining({ seq: 3, kind: 'forked' }),
    );
    const outside = { pk: 'subject#fleet', sk: '2026-01-05T06:09:00.000Z#z#halt#intent', subject: 'fleet', at: '2026-01-05T06:09:00.000Z' };
    expect(verifyAuditChain([...records, outside], links)[0]?.breaks).toEqual([expect.objectContaining({ kind: 'unchained' })]);
  });

  it('--since checks only records written since, but still their links to earlier ones', () => {
    const { records, links } = chain();
    records[0] = { ...(records[0] as StoredChainRecord), actor: 'mallory' };
    expect(verifyAuditChain(records, links, { since: '2026-01-05T06:02:00.000Z' })[0]).toMatchObject({ records: 2, breaks: [] });
    expect(verifyAuditChain(records, links)[0]?.breaks).toEqual([expect.objectContaining({ seq: 1, kind: 'edited' })]);
  });
});

describe('the audit table resource policy, as sandbox IAM enforces it', () => {
  it('denies UpdateItem and DeleteItem on an audit record to every function role, naming the resource-based policy', async () => {
    const sandbox = await openSandbox();
    const deps = functionDeps(sandbox, '-halt-set-halt-flag');
    await writeAuditRecord(deps, record('policy-test', 1));
    const [stored] = (await readAuditTable(sandbox)).records.filter((r) => r.subject === 'policy-test');
    const key = marshall({ pk: stored?.pk, sk: stored?.sk });
    const tableArn = `arn:aws:dynamodb:eu-west-2:111122223333:table/${sandbox.config.auditTableName}`;

    const update = await deps.clients.dynamodb
      .send(
        new UpdateItemCommand({
          TableName: sandbox.config.auditTableName,
          Key: key,
          UpdateExpression: 'SET actor = :a',
          ExpressionAttributeValues: marshall({ ':a': 'mallory' }),
        }),
      )
      .catch((e: unknown) => e);
    expect(update).toMatchObject({ name: 'AccessDeniedException' });
    expect((update as Error).message).toMatch(
      new RegExp(`is not authorized to perform: dynamodb:UpdateItem on resource: ${tableArn} with an explicit deny in a resource-based policy`),
    );
    const remove = await deps.clients.dynamodb.send(new DeleteItemCommand({ TableName: sandbox.config.auditTableName, Key: key })).catch((e: unknown) => e);
    expect(remove).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('dynamodb:DeleteItem') });
    expect((remove as Error).message).toContain('explicit deny in a resource-based policy');
    expect((await readAuditTable(sandbox)).records.find((r) => r.subject === 'policy-test')).toEqual(stored);
  });

  it('denies PutItem to a role that is not one of Assure’s functions (a state machine’s), even to add a record', async () => {
    const sandbox = await openSandbox();
    const machine = Object.keys(sandbox.iam?.policies.stateMachines ?? {}).find((n) => n.endsWith('-halt')) as string;
    const session = sandbox.iam?.stateMachineSession(`arn:aws:states:eu-west-2:111122223333:stateMachine:${machine}`);
    if (!session) throw new Error('no halt state machine');
    // Only Assure's function roles may append; any other principal is refused by the table's own policy.
    const clients = createAwsClients(ALL_CLIENT_CLASSES, { region: sandbox.context.region, plugins: [sandbox.transport.plugin(session)] });
    const forged = { pk: 'subject#fleet', sk: '2026-01-05T06:00:00.000Z#forged#halt#outcome', subject: 'fleet' };
    const put = await clients.dynamodb.send(new PutItemCommand({ TableName: sandbox.config.auditTableName, Item: marshall(forged) })).catch((e: unknown) => e);
    expect(put).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('dynamodb:PutItem') });
    expect((put as Error).message).toContain('explicit deny in a resource-based policy');
  });
});

describe('assure audit verify', () => {
  async function recordedSandbox(): Promise<Sandbox> {
    state = mkdtempSync(join(tmpdir(), 'assure-audit-'));
    const { loadFleetFile } = await import('../../lib/fleet/fleet-file');
    const sandbox = await Sandbox.open({ fleet: loadFleetFile(FLEET_FILE), stateDirectory: state });
    await sandbox.runExecution(await sandbox.startExecution('halt', { reason: 'risk limit breached', actor: 'alice' }));
    return sandbox;
  }

  async function verify(...args: string[]): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const code = await runCli(['--state', state as string, 'audit', 'verify', ...args], { line: (t = '') => out.push(t), error: (t) => out.push(t) });
    return { code, out: out.join('\n') };
  }

  it('exits 0 on an intact trail and lists each subject', async () => {
    const sandbox = await recordedSandbox();
    await sandbox.save();
    sandbox.dispose();
    const result = await verify();
    expect(result.code).toBe(EXIT.ok);
    expect(result.out).toMatch(/^fleet +\d+ +\d+ +intact$/m);
    expect(result.out).toContain('The audit trail is intact.');
  });

  it('exits non-zero, naming subject and seq, when a record is deleted from the table behind IAM', async () => {
    const sandbox = await recordedSandbox();
    const fleet = (await readAuditTable(sandbox)).records.filter((r) => r.subject === 'fleet').sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    const victim = fleet[0] as StoredChainRecord;
    await raw(sandbox, 'DeleteItem', { Key: marshall({ pk: victim.pk, sk: victim.sk }) });
    await sandbox.save();
    sandbox.dispose();

    const result = await verify();
    expect(result.code).toBe(EXIT.broken);
    expect(result.out).toMatch(new RegExp(`^fleet +${victim.seq} +gap +record ${victim.sk} is missing`, 'm'));
  });

  it('exits non-zero when a record is edited in place behind IAM', async () => {
    const sandbox = await recordedSandbox();
    const [victim] = (await readAuditTable(sandbox)).records.filter((r) => r.subject === 'fleet' && r.seq !== undefined);
    await raw(sandbox, 'PutItem', { Item: marshall({ ...victim, actor: 'mallory' }) });
    await sandbox.save();
    sandbox.dispose();

    const result = await verify('--json');
    expect(result.code).toBe(EXIT.broken);
    const report = JSON.parse(result.out) as { ok: boolean; breaks: { subject: string; seq: number; kind: string }[] };
    expect(report.ok).toBe(false);
    expect(report.breaks).toEqual([expect.objectContaining({ subject: 'fleet', seq: victim?.seq, kind: 'edited' })]);
  });

  it('--since takes a duration or an ISO time, and refuses anything else', async () => {
    const sandbox = await recordedSandbox();
    await sandbox.save();
    sandbox.dispose();
    expect((await verify('--since', '24h')).code).toBe(EXIT.ok);
    expect((await verify('--since', '2026-01-05T00:00:00Z')).out).toContain('records since 2026-01-05T00:00:00.000Z');
    expect((await verify('--since', 'yesterday')).code).toBe(EXIT.invalid);
  });
});
