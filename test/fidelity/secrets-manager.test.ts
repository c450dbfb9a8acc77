/**
 * Secrets Manager, held to its API Reference and user guide. Each test names the page.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { secretValueProblems } from '../../functions/shared/domain/secret-values';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { nextRotationDue } from '../../lib/sandbox/secrets-manager/rotation-schedule';
import { type RotationInvoker, SimulatedSecretsManager } from '../../lib/sandbox/simulated-secrets-manager';
import { VirtualClock } from '../../lib/sandbox/virtual-clock';
import { openSandbox } from '../support/sandbox';

const START = Date.parse('2026-01-05T06:00:00Z');
const DAY = 86_400_000;
const FUNCTION = 'arn:aws:lambda:eu-west-2:111122223333:function:rotate';

let clock: VirtualClock | undefined;
afterEach(() => {
  clock?.uninstall();
  clock = undefined;
});

interface World {
  readonly sm: SimulatedSecretsManager;
  readonly events: { step: string; token: string; stages: Record<string, string[]> }[];
  readonly emitted: string[];
}

/** A Secrets Manager whose rotation function does the four steps as AWS's templates do, recording what it was invoked with. */
function world(): World {
  clock = VirtualClock.install(START);
  const events: World['events'] = [];
  const emitted: string[] = [];
  let counter = 0;
  const stagesNow = (): Record<string, string[]> =>
    Object.fromEntries((sm.secret('s')?.versions ?? []).filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]));
  const invoke: RotationInvoker = async (_arn, event) => {
    events.push({ step: event.Step, token: event.ClientRequestToken, stages: stagesNow() });
    if (stagesNow()[event.ClientRequestToken]?.includes('AWSCURRENT')) return;
    if (event.Step === 'createSecret') {
      await sm.handle('PutSecretValue', {
        SecretId: event.SecretId,
        ClientRequestToken: event.ClientRequestToken,
        SecretString: `v${(counter += 1)}`,
        VersionStages: ['AWSPENDING'],
      });
    }
    if (event.Step === 'finishSecret') {
      const current = Object.entries(stagesNow()).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
      await sm.handle('UpdateSecretVersionStage', {
        SecretId: event.SecretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: event.ClientRequestToken,
        RemoveFromVersionId: current,
      });
      await sm.handle('UpdateSecretVersionStage', { SecretId: event.SecretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: event.ClientRequestToken });
    }
  };
  const sm: SimulatedSecretsManager = new SimulatedSecretsManager(
    { account: '111122223333', region: 'eu-west-2', random: new SeededRandom(3) },
    invoke,
    (_type, _resources, detail) => emitted.push(String(detail.eventName)),
  );
  sm.createSecret({ Name: 's', SecretString: 'v0' });
  return { sm, events, emitted };
}

const stages = (sm: SimulatedSecretsManager): Record<string, string[]> =>
  Object.fromEntries((sm.secret('s')?.versions ?? []).filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]));

describe('RotateSecret with RotateImmediately false (API Reference: RotateSecret, RotateImmediately)', () => {
  it('configures rotation and tests it with testSecret against AWSCURRENT, then removes AWSPENDING; nothing rotates', async () => {
    const { sm, events, emitted } = world();
    const current = Object.keys(stages(sm))[0] ?? '';
    await sm.handle('RotateSecret', { SecretId: 's', RotationLambdaARN: FUNCTION, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false });
    await clock?.settle();
    expect(events).toEqual([{ step: 'testSecret', token: current, stages: { [current]: ['AWSCURRENT', 'AWSPENDING'] } }]);
    expect(stages(sm)).toEqual({ [current]: ['AWSCURRENT'] });
    expect(sm.rotationTests).toMatchObject([{ secret: 's', versionId: current, outcome: 'passed' }]);
    expect(sm.rotations).toEqual([]);
    expect(emitted).toEqual([]);
    const described = (await sm.handle('DescribeSecret', { SecretId: 's' })) as { RotationEnabled: boolean; NextRotationDate: Date };
    expect(described.RotationEnabled).toBe(true);
    expect(described.NextRotationDate.getTime()).toBe(START + 30 * DAY);
  });

  it("the sandbox's own setup tests each managed secret's rotation with the project's rotation function, which passes", async () => {
    const sandbox = await openSandbox();
    const names = Object.values(sandbox.fleet.secrets).map((s) => s.name);
    expect(sandbox.secretsManager.rotationTests.map((t) => [t.secret, t.outcome])).toEqual(names.map((n) => [n, 'passed']));
    for (const name of names)
      expect(
        Object.values(
          ((await sandbox.secretsManager.handle('DescribeSecret', { SecretId: name })) as { VersionIdsToStages: Record<string, string[]> }).VersionIdsToStages,
        ).flat(),
      ).not.toContain('AWSPENDING');
  });
});

describe('scheduled rotation (API Reference: RotationRulesType)', () => {
  it('AutomaticallyAfterDays: rotates when due on the virtual clock, with the events a rotation sends, and again a period later', async () => {
    const { sm, emitted } = world();
    await sm.handle('RotateSecret', { SecretId: 's', RotationLambdaARN: FUNCTION, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false });
    // Timer to timer (advance() ending between timers would shift them: fake-timers' setSystemTime moves pending timers).
    await clock?.runUntil(() => sm.rotations.length > 0, 31 * DAY);
    expect(sm.rotations).toMatchObject([{ secret: 's', outcome: 'succeeded', scheduled: true, at: START + 30 * DAY }]);
    expect(emitted).toEqual(['RotationStarted', 'RotationSucceeded']);
    expect(sm.versionWithStage('s')?.secretString).toBe('v1');
    await clock?.runUntil(() => sm.rotations.length > 1, 31 * DAY);
    expect(sm.rotations.map((r) => r.at)).toEqual([START + 30 * DAY, START + 60 * DAY]);
  });

  it('a value put by hand counts as a rotation: the schedule restarts from it', async () => {
    const { sm } = world();
    await sm.handle('RotateSecret', { SecretId: 's', RotationLambdaARN: FUNCTION, RotationRules: { AutomaticallyAfterDays: 10 }, RotateImmediately: false });
    await clock?.advance(5 * DAY);
    await sm.handle('PutSecretValue', { SecretId: 's', SecretString: 'by hand' });
    await clock?.advance(6 * DAY);
    expect(sm.rotations).toEqual([]);
    await clock?.advance(4 * DAY);
    expect(sm.rotations.map((r) => r.at)).toEqual([START + 15 * DAY]);
  });

  it('ScheduleExpression: rate() counts from the previous rotation, cron() is UTC', () => {
    expect(nextRotationDue({ ScheduleExpression: 'rate(10 days)' }, START)).toBe(START + 10 * DAY);
    expect(nextRotationDue({ ScheduleExpression: 'rate(4 hours)' }, START)).toBe(START + 4 * 3600_000);
    // 2026-01-05 is a Monday: the next Tuesday 16:00 UTC.
    expect(nextRotationDue({ ScheduleExpression: 'cron(0 16 ? * TUE *)' }, START)).toBe(Date.parse('2026-01-06T16:00:00Z'));
    expect(nextRotationDue({ AutomaticallyAfterDays: 7 }, START)).toBe(START + 7 * DAY);
  });

  it('refuses AutomaticallyAfterDays together with ScheduleExpression', async () => {
    const { sm } = world();
    await expect(
      sm.handle('RotateSecret', {
        SecretId: 's',
        RotationLambdaARN: FUNCTION,
        RotationRules: { AutomaticallyAfterDays: 7, ScheduleExpression: 'rate(7 days)' },
      }),
    ).rejects.toMatchObject({ code: 'InvalidParameterException' });
  });
});

describe('a version created by hand abandons a rotation ("Logging AWS Secrets Manager events with AWS CloudTrail", RotationAbandoned)', () => {
  it('PutSecretValue (AWSCURRENT) removes AWSPENDING from the failed rotation, sends RotationAbandoned, and the next RotateSecret works', async () => {
    const { sm, emitted } = world();
    await sm.handle('RotateSecret', { SecretId: 's', RotationLambdaARN: FUNCTION, RotateImmediately: false });
    await clock?.settle();
    // A rotation that stopped half-way: AWSPENDING on a version that is not AWSCURRENT.
    await sm.handle('PutSecretValue', { SecretId: 's', ClientRequestToken: 'p'.repeat(32), SecretString: 'pending', VersionStages: ['AWSPENDING'] });
    await expect(sm.handle('RotateSecret', { SecretId: 's' })).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await sm.handle('PutSecretValue', { SecretId: 's', ClientRequestToken: 'n'.repeat(32), SecretString: 'new' });
    expect(Object.values(stages(sm)).flat()).not.toContain('AWSPENDING');
    expect(emitted).toEqual(['RotationAbandoned']);
    await sm.handle('RotateSecret', { SecretId: 's', ClientRequestToken: 'r'.repeat(32) });
    await clock?.settle();
    expect(sm.rotations.map((r) => r.outcome)).toEqual(['succeeded']);
  });
});

describe('GetRandomPassword (API Reference: GetRandomPassword)', () => {
  it('32 characters by default, one of each included type, exclusions honoured', async () => {
    const { sm } = world();
    const { RandomPassword: password } = (await sm.handle('GetRandomPassword', {})) as { RandomPassword: string };
    expect(password).toHaveLength(32);
    for (const type of [/[a-z]/, /[A-Z]/, /[0-9]/, /[!-/:-@[-`{-~]/]) expect(password).toMatch(type);
    const hex = sm.generatePassword({ PasswordLength: 64, ExcludeUppercase: true, ExcludePunctuation: true, ExcludeCharacters: 'ghijklmnopqrstuvwxyz' });
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    await expect(sm.handle('GetRandomPassword', { PasswordLength: 4097 })).rejects.toMatchObject({ code: 'InvalidParameterException' });
  });

  it("seeds the fleet's secrets with the simulation's own generator, not the project's code, to the fleet's policy", async () => {
    const source = readFileSync(new URL('../../lib/sandbox/fleet-world.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/from '\.\.\/\.\.\/functions\//);
    const sandbox = await openSandbox();
    for (const secret of Object.values(sandbox.fleet.secrets)) {
      const first = sandbox.secretsManager.secret(secret.name)?.versions[0]?.secretString ?? '';
      expect(secretValueProblems(secret, first), secret.id).toEqual([]);
    }
  });
});
