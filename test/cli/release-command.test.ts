/**
 * The release commands against the sandbox, as separate invocations sharing a
 * state directory: requests refused before anything starts (exit 2, the field
 * named, nothing changed) and release records read from the state table.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../functions/shared/domain/release';
import { isReleaseApproval } from '../../lib/cli/commands/approve';
import { rollbackTarget } from '../../lib/cli/commands/rollback';
import { runCli } from '../../lib/cli/program';
import { checkPushRef } from '../../lib/cli/release-push';
import { loadFleetFile } from '../../lib/fleet/fleet-file';
import { Sandbox } from '../../lib/sandbox/sandbox';

let state: string;
const fleet = loadFleetFile('examples/trading-fleet.yaml');
const repo = (service: string): string => `111122223333.dkr.ecr.eu-west-2.amazonaws.com/${service}`;
const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const taskDefinition = (service: string, n: number): string => `arn:aws:ecs:eu-west-2:111122223333:task-definition/${service}:${n}`;

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'assure-cli-release-'));
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

/** Writes state-table items into the saved sandbox, as the release workflow and the deployment hook would. */
async function putStateItems(...items: Record<string, unknown>[]): Promise<void> {
  const sandbox = await Sandbox.open({ fleet, stateDirectory: state, iam: 'off' });
  try {
    for (const item of items) {
      await sandbox.clients.dynamodb.send(
        new PutItemCommand({ TableName: sandbox.config.stateTableName, Item: marshall(item, { removeUndefinedValues: true }) }),
      );
    }
    await sandbox.save();
  } finally {
    sandbox.dispose();
  }
}

const releaseId = 'release-20260105T053000-ab12';
const releaseItem = {
  releaseId,
  pk: `release#${releaseId}`,
  executionArn: `arn:aws:states:eu-west-2:111122223333:execution:assure-prod-release:${releaseId}`,
  kind: 'release',
  status: 'SUCCEEDED',
  requestedBy: 'alice',
  reason: 'fleet release 2026.01',
  source: { type: 'manifest' },
  waves: [['market-data'], ['order-gateway']],
  wavesDone: 2,
  services: {
    'market-data': {
      service: 'market-data',
      image: `${repo('market-data')}@${digest('a')}`,
      digest: digest('a'),
      tag: '1.4.0',
      previousTaskDefinitionArn: taskDefinition('market-data', 1),
      previousImage: `${repo('market-data')}:1.0.0`,
      taskDefinitionArn: taskDefinition('market-data', 2),
      status: 'RELEASED',
    },
    'order-gateway': {
      service: 'order-gateway',
      image: `${repo('order-gateway')}@${digest('b')}`,
      digest: digest('b'),
      previousTaskDefinitionArn: taskDefinition('order-gateway', 1),
      previousImage: `${repo('order-gateway')}:3.2.0`,
      taskDefinitionArn: taskDefinition('order-gateway', 2),
      status: 'RELEASED',
    },
  },
  fleetBefore: {
    'market-data': { taskDefinitionArn: taskDefinition('market-data', 1), image: `${repo('market-data')}:1.0.0` },
    'order-gateway': { taskDefinitionArn: taskDefinition('order-gateway', 1), image: `${repo('order-gateway')}:3.2.0` },
  },
  fleetAfter: {
    'market-data': { taskDefinitionArn: taskDefinition('market-data', 2), image: `${repo('market-data')}@${digest('a')}` },
    'order-gateway': { taskDefinitionArn: taskDefinition('order-gateway', 2), image: `${repo('order-gateway')}@${digest('b')}` },
  },
  startedAt: '2026-01-05T05:30:00.000Z',
  finishedAt: '2026-01-05T05:48:00.000Z',
};

describe('assure release', () => {
  it('refuses a manifest that does not validate with exit 2 and the field named, before the sandbox opens', async () => {
    const file = join(state, 'release.yaml');
    writeFileSync(file, `services:\n  order-gateway: ${repo('order-gateway')}:3.3.0\n`);
    const tag = await assure('release', file);
    expect(tag.code).toBe(2);
    expect(tag.err).toContain(`${file}: services.order-gateway: must be a digest reference`);

    writeFileSync(file, JSON.stringify({ services: { 'pricing-engine': `${repo('pricing-engine')}@${digest('a')}` } }));
    const unknown = await assure('release', file);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('services.pricing-engine: pricing-engine is not in the prod fleet');

    const missing = await assure('release', join(state, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.yaml: cannot be read');

    const none = await assure('release');
    expect(none.code).toBe(2);
    expect(none.err).toContain("missing required argument 'manifest'");
    // Nothing was created.
    expect(existsSync(join(state, 'sandbox.json'))).toBe(false);
  });

  it('lists releases and shows one in full from its release# record; an unknown id is refused', async () => {
    const empty = await assure('release', 'status');
    expect(empty.code).toBe(0);
    expect(empty.out).toBe('No release yet.');

    await putStateItems(releaseItem, { pk: 'approval#resume-x', status: 'pending' });
    const list = await assure('release', 'status');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`^${releaseId} +SUCCEEDED +market-data, order-gateway +alice +2026-01-05 05:30:00 +2026-01-05 05:48:00$`, 'm'));

    const one = await assure('release', 'status', releaseId);
    expect(one.code).toBe(0);
    expect(one.out).toContain(`Release ${releaseId}: SUCCEEDED`);
    expect(one.out).toContain('wave 1: market-data\n  wave 2: order-gateway');
    expect(one.out).toMatch(/^market-data +RELEASED +1\.4\.0 +sha256:aaaa… +market-data:1 +market-data:2$/m);
    expect(one.out).toContain(`order-gateway: ${repo('order-gateway')}@${digest('b')}`);
    expect(one.out).toMatch(/^order-gateway +order-gateway:1 \(3\.2\.0\) +order-gateway:2 \(sha256:bbbb…\)$/m);

    // The record as the release workflow keeps it.
    const json = JSON.parse((await assure('--json', 'release', 'status', releaseId)).out) as ReleaseRecord;
    expect(json.releaseId).toBe(releaseId);
    expect(json.services['market-data']).toMatchObject({ tag: '1.4.0', digest: digest('a') });

    const unknown = await assure('release', 'status', 'release-nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('release: release-nope is not a release of this fleet');
  });
});

describe('assure rollback --release', () => {
  it('takes a release id or a service, not both, and names the field', () => {
    expect(rollbackTarget(undefined, { release: 'r-1' })).toEqual({ kind: 'release', releaseId: 'r-1' });
    expect(rollbackTarget('order-gateway', {})).toEqual({ kind: 'service', service: 'order-gateway' });
    expect(() => rollbackTarget(undefined, {})).toThrow('service: is required');
    expect(() => rollbackTarget('order-gateway', { release: 'r-1' })).toThrow('service: a fleet rollback (--release)');
    expect(() => rollbackTarget(undefined, { release: 'r-1', revision: 3 })).toThrow('revision: a fleet rollback');
  });

  it('refuses with exit 2 and starts nothing: no service, both, or a release the state table does not know', async () => {
    const neither = await assure('rollback');
    expect(neither.code).toBe(2);
    expect(neither.err).toContain('service: is required');
    const both = await assure('rollback', 'order-gateway', '--release', releaseId);
    expect(both.code).toBe(2);

    await putStateItems(releaseItem);
    const before = readFileSync(join(state, 'sandbox.json'), 'utf8');
    const unknown = await assure('rollback', '--release', 'release-nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('release: release-nope is not a release of this fleet');
    expect(readFileSync(join(state, 'sandbox.json'), 'utf8')).toBe(before);
  });
});

describe('assure sandbox push', () => {
  it('takes <repository>:<tag> of a fleet repository, by name or URI', () => {
    expect(checkPushRef('order-gateway:3.3.0', fleet)).toBe('order-gateway');
    expect(checkPushRef(`${repo('risk-engine')}:v2.5.0`, fleet)).toBe('risk-engine');
    expect(() => checkPushRef('order-gateway', fleet)).toThrow('ref: must be <repository>:<tag>');
    expect(() => checkPushRef(`${repo('order-gateway')}@${digest('a')}`, fleet)).toThrow('ref: must be <repository>:<tag>');
    expect(() => checkPushRef('order-gateway:-bad', fleet)).toThrow('ref: must be <repository>:<tag>');
    expect(() => checkPushRef('pricing-engine:1.0.0', fleet)).toThrow('ref: pricing-engine is not a repository of the prod fleet');
  });

  it('refuses a bad ref or behaviour with exit 2 and changes nothing', async () => {
    const unknown = await assure('sandbox', 'push', 'pricing-engine:1.0.0');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('ref: pricing-engine is not a repository of the prod fleet');
    const behaviour = await assure('sandbox', 'push', 'order-gateway:3.3.0', '--behaviour', 'explodes');
    expect(behaviour.code).toBe(2);
    expect(behaviour.err).toContain("argument 'explodes' is invalid");
    const badDigest = await assure('sandbox', 'push', 'order-gateway:3.3.0', '--digest', 'sha256:abc');
    expect(badDigest.code).toBe(2);
    expect(badDigest.err).toContain('digest: must be sha256:<64 hex digits>, got sha256:abc');
    expect(existsSync(join(state, 'sandbox.json'))).toBe(false);
  });
});

describe('assure approve', () => {
  it("routes an id to the release approval path only for the hook's approval#<id> (kind release), not a resume's", async () => {
    await putStateItems(
      {
        pk: `approval#${releaseId}`,
        kind: 'release',
        approvalId: releaseId,
        status: 'pending',
        requestedBy: 'ci-pipeline',
        approvers: ['bob'],
        deadline: '2026-01-05T06:30:00Z',
        requestedAt: '2026-01-05T05:30:00Z',
        releaseId,
        deployExecutionId: 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-deploy:order-gateway-20260105T053000-abcd',
      },
      { pk: 'approval#resume-20260105T053000-abcd', status: 'pending', requestedBy: 'alice' },
    );
    const sandbox = await Sandbox.open({ fleet, stateDirectory: state, iam: 'off' });
    try {
      expect(await isReleaseApproval(sandbox, releaseId)).toBe(true);
      expect(await isReleaseApproval(sandbox, 'resume-20260105T053000-abcd')).toBe(false);
      expect(await isReleaseApproval(sandbox, 'release-unknown')).toBe(false);
    } finally {
      sandbox.dispose();
    }
    // A release approval whose release is not running here is refused before any decision is recorded.
    const before = readFileSync(join(state, 'sandbox.json'), 'utf8');
    const refused = await assure('approve', releaseId, '--as', 'bob');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`approval ${releaseId} holds no release or deploy execution of this sandbox`);
    expect(readFileSync(join(state, 'sandbox.json'), 'utf8')).toBe(before);
  });
});
