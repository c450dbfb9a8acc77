import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createRotateSecretValue,
  type RotationEvent,
  type RotationResult,
  rotateSecretValue,
  ROTATION_STEPS,
} from '../../../functions/rotate-secret-value/core';
import { HttpCredentialApiProvider } from '../../../functions/shared/domain/credential-providers';
import {
  CredentialProviderUnavailableError,
  CredentialRejectedError,
  InvalidInputError,
  RotationNotEnabledError,
  SecretValuePolicyError,
  UnknownRotationTokenError,
  UnmanagedSecretError,
} from '../../../functions/shared/runtime/errors';
import { createHandler } from '../../../functions/shared/runtime/handler';
import type { HttpClient, HttpRequest } from '../../../functions/shared/runtime/http';
import { generateSecretValue, randomChars, secretValueProblems, TOKEN_ALPHABETS } from '../../../functions/shared/domain/secret-values';
import type { FleetSecret } from '../../../lib/fleet/fleet';
import { SeededRandom } from '../../../lib/sandbox/deterministic';
import { SimulatedCredentialApi } from '../../../lib/sandbox/simulated-credential-api';
import { SimulatedSecretsManager } from '../../../lib/sandbox/simulated-secrets-manager';
import { lambdaContext, type TestDeps, testDeps } from '../../support/handler-deps';
import { InMemoryCredentialProvider } from '../../support/in-memory-credential-provider';
import { captureLogs } from './halt-builders';

/**
 * The stub's backend is the sandbox's Secrets Manager (versions, staging labels,
 * PutSecretValue idempotency), so each test reads the stages a real rotation
 * leaves; the assertions on the commands sent pin the calls themselves.
 */
let deps: TestDeps;
let sm: AwsClientStub<SecretsManagerClient>;
let store: SimulatedSecretsManager;

const TOKEN = '5f0c2a4e-1d3b-4c8a-9e7f-0a1b2c3d4e5f';
const ROTATION_TOKEN = 'rotation-token-0123456789';
/** Values whose appearance anywhere outside the store is a leak. */
const CANARY_TOKEN = 'CanaryCurrentToken0000000000000000000001';
const CANARY_PASSWORD = 'CanaryVenuePassword0000000000001';

const secretOf = (id: string): FleetSecret => {
  const secret = deps.fleet.secrets[id];
  if (!secret) throw new Error(`no secret ${id} in the example fleet`);
  return secret;
};

beforeEach(() => {
  deps = testDeps();
  sm = mockClient(deps.clients.secretsManager);
  store = new SimulatedSecretsManager({ account: '111122223333', region: 'eu-west-2', random: new SeededRandom(7) });
  const backend = (operation: string) => (input: object) => store.handle(operation, input as Record<string, unknown>);
  sm.on(DescribeSecretCommand).callsFake(backend('DescribeSecret'));
  sm.on(GetSecretValueCommand).callsFake(backend('GetSecretValue'));
  sm.on(PutSecretValueCommand).callsFake(backend('PutSecretValue'));
  sm.on(UpdateSecretVersionStageCommand).callsFake(backend('UpdateSecretVersionStage'));
});

/**
 * A managed secret with a current value, rotation enabled, and the version
 * RotateSecret makes before createSecret: id TOKEN, staged AWSPENDING, no value.
 */
function rotatingSecret(id: string, current: string): { arn: string; currentVersion: string } {
  const secret = secretOf(id);
  const created = store.createSecret({ Name: secret.name, SecretString: current });
  const record = store.secret(secret.name);
  if (!record) throw new Error('not created');
  record.rotationEnabled = true;
  record.versions.push({ versionId: TOKEN, secretString: '', createdAt: Date.now(), stages: ['AWSPENDING'], empty: true });
  return { arn: created.ARN, currentVersion: created.VersionId };
}

const stagesOf = (arn: string): Record<string, string[]> => Object.fromEntries((store.secret(arn)?.versions ?? []).map((v) => [v.versionId, [...v.stages]]));
const valueOf = (arn: string, versionId: string): string | undefined =>
  store.secret(arn)?.versions.find((v) => v.versionId === versionId && !v.empty)?.secretString;

const eventFor = (arn: string, Step: RotationEvent['Step'], token = TOKEN): RotationEvent => ({
  Step,
  SecretId: arn,
  ClientRequestToken: token,
  RotationToken: ROTATION_TOKEN,
});

async function runSteps(arn: string, handler = rotateSecretValue, steps: readonly RotationEvent['Step'][] = ROTATION_STEPS): Promise<RotationResult[]> {
  const results: RotationResult[] = [];
  for (const step of steps) results.push(await handler.core(eventFor(arn, step), deps));
  return results;
}

const failure = async (work: Promise<unknown>): Promise<Error> => {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
};

describe('rotate-secret-value: the version it is asked to rotate', () => {
  it('refuses a secret whose rotation is not enabled', async () => {
    const { arn } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    const record = store.secret(arn);
    if (record) record.rotationEnabled = false;

    const error = await failure(rotateSecretValue.core(eventFor(arn, 'createSecret'), deps));

    expect(error).toBeInstanceOf(RotationNotEnabledError);
    expect(error.message).toBe('Secret prod/trading/admin-api-token is not enabled for rotation');
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 0);
  });

  it('refuses a token that is not a version of the secret, and one not staged AWSPENDING', async () => {
    const { arn, currentVersion } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    const unknown = await failure(rotateSecretValue.core(eventFor(arn, 'createSecret', '00000000-0000-4000-8000-000000000000'), deps));
    expect(unknown).toBeInstanceOf(UnknownRotationTokenError);
    expect(unknown.message).toContain('has no stage for rotation');

    // A version that is only AWSPREVIOUS (an old rotation's token, replayed).
    await runSteps(arn);
    const error = await failure(rotateSecretValue.core(eventFor(arn, 'setSecret', currentVersion), deps));

    expect(stagesOf(arn)[currentVersion]).toEqual(['AWSPREVIOUS']);
    expect(error).toBeInstanceOf(UnknownRotationTokenError);
    expect(error.message).toBe(`Version ${currentVersion} of secret prod/trading/admin-api-token is not staged AWSPENDING for rotation`);
  });

  it('does nothing, at every step, for a version that is already AWSCURRENT', async () => {
    const { arn, currentVersion } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    sm.resetHistory();

    for (const step of ROTATION_STEPS) {
      const result = await rotateSecretValue.core(eventFor(arn, step, currentVersion), deps);
      expect(result.outcome).toBe('already-current');
    }
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 0);
    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 0);
  });

  it('refuses a secret the fleet file does not manage, naming it', async () => {
    const created = store.createSecret({ Name: 'prod/other/secret', SecretString: CANARY_TOKEN });
    const record = store.secret(created.ARN);
    if (record) record.rotationEnabled = true;
    // A secret named like a fleet id is not that fleet secret.
    const lookalike = store.createSecret({ Name: 'admin-api-token', SecretString: CANARY_TOKEN });
    const lookalikeRecord = store.secret(lookalike.ARN);
    if (lookalikeRecord) lookalikeRecord.rotationEnabled = true;

    for (const arn of [created.ARN, lookalike.ARN]) {
      const error = await failure(rotateSecretValue.core(eventFor(arn, 'createSecret'), deps));
      expect(error).toBeInstanceOf(UnmanagedSecretError);
    }
  });

  it('refuses an event that is not a rotation step, naming the field', async () => {
    const handler = createHandler(rotateSecretValue, deps);
    const error = await failure(handler({ Step: 'rotateEverything', SecretId: 'x', ClientRequestToken: 'short' }, lambdaContext('rotate-secret-value')));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/^Invalid input to rotate-secret-value: Step: .*; ClientRequestToken: /);
  });
});

describe('rotate-secret-value: createSecret', () => {
  it('puts a new value of the kind as the token version, staged AWSPENDING, with the rotation token', async () => {
    const { arn, currentVersion } = rotatingSecret('admin-api-token', CANARY_TOKEN);

    const result = await rotateSecretValue.core(eventFor(arn, 'createSecret'), deps);

    expect(result).toEqual({ step: 'createSecret', secret: 'admin-api-token', secretArn: arn, versionId: TOKEN, outcome: 'created' });
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, {
      SecretId: arn,
      ClientRequestToken: TOKEN,
      VersionStages: ['AWSPENDING'],
      RotationToken: ROTATION_TOKEN,
    });
    expect(stagesOf(arn)).toEqual({ [currentVersion]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    const pending = valueOf(arn, TOKEN) ?? '';
    expect(secretValueProblems(secretOf('admin-api-token'), pending)).toEqual([]);
    expect(pending).not.toBe(CANARY_TOKEN);
  });

  it('repeated, keeps the first value and creates no second version', async () => {
    const { arn } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    await rotateSecretValue.core(eventFor(arn, 'createSecret'), deps);
    const first = valueOf(arn, TOKEN);

    const again = await rotateSecretValue.core(eventFor(arn, 'createSecret'), deps);

    expect(again.outcome).toBe('already-created');
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(valueOf(arn, TOKEN)).toBe(first);
    expect(store.secret(arn)?.versions).toHaveLength(2);
    expect(Object.values(stagesOf(arn)).filter((stages) => stages.includes('AWSPENDING'))).toHaveLength(1);
  });

  it('keeps the value a concurrent createSecret put first (ResourceExistsException)', async () => {
    const { arn } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    // The other invocation wins the race between this one's read and its write.
    sm.on(PutSecretValueCommand).callsFakeOnce(async (input: Record<string, unknown>) => {
      await store.handle('PutSecretValue', { ...input, SecretString: 'WinnerWinnerWinnerWinnerWinnerWinner1234' });
      return store.handle('PutSecretValue', input);
    });

    const result = await rotateSecretValue.core(eventFor(arn, 'createSecret'), deps);

    expect(result.outcome).toBe('already-created');
    expect(valueOf(arn, TOKEN)).toBe('WinnerWinnerWinnerWinnerWinnerWinner1234');
  });
});

describe('rotate-secret-value: generated kinds (setSecret, testSecret)', () => {
  it('has nothing to set for a generated token or a signing key, and calls no downstream system', async () => {
    for (const id of ['admin-api-token', 'order-signing-key']) {
      const current = generateSecretValue(secretOf(id));
      const { arn } = rotatingSecret(id, current);
      await rotateSecretValue.core(eventFor(arn, 'createSecret'), deps);
      expect((await rotateSecretValue.core(eventFor(arn, 'setSecret'), deps)).outcome).toBe('nothing-to-set');
      expect((await rotateSecretValue.core(eventFor(arn, 'testSecret'), deps)).outcome).toBe('tested');
    }
    expect(deps.http).not.toHaveBeenCalled();
  });

  it('testSecret refuses a pending value outside the policy, describing it without quoting it', async () => {
    const { arn } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    const tampered = 'Tampered-Value!';
    await store.handle('PutSecretValue', { SecretId: arn, ClientRequestToken: TOKEN, SecretString: tampered, VersionStages: ['AWSPENDING'] });

    const error = await failure(rotateSecretValue.core(eventFor(arn, 'testSecret'), deps));

    expect(error).toBeInstanceOf(SecretValuePolicyError);
    expect(error.message).toBe(
      `The AWSPENDING version ${TOKEN} of secret prod/trading/admin-api-token is not a valid generated-token: it has 15 characters, expected 40; it has 2 characters outside the alphanumeric alphabet`,
    );
    expect(error.message).not.toContain(tampered);
  });

  it('testSecret refuses a pending value that repeats the current one', async () => {
    const { arn } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    await store.handle('PutSecretValue', { SecretId: arn, ClientRequestToken: TOKEN, SecretString: CANARY_TOKEN, VersionStages: ['AWSPENDING'] });

    const error = await failure(rotateSecretValue.core(eventFor(arn, 'testSecret'), deps));

    expect(error).toBeInstanceOf(SecretValuePolicyError);
    expect(error.message).toContain('it repeats the AWSCURRENT value');
    expect(error.message).not.toContain(CANARY_TOKEN);
  });
});

describe('rotate-secret-value: finishSecret', () => {
  it('moves AWSCURRENT to the new version, AWSPREVIOUS to the old one, and leaves no AWSPENDING', async () => {
    const { arn, currentVersion } = rotatingSecret('order-signing-key', generateSecretValue(secretOf('order-signing-key')));
    await runSteps(arn, rotateSecretValue, ['createSecret', 'setSecret', 'testSecret']);
    sm.resetHistory();

    const result = await rotateSecretValue.core(eventFor(arn, 'finishSecret'), deps);

    expect(result.outcome).toBe('finished');
    expect(sm).toHaveReceivedNthCommandWith(UpdateSecretVersionStageCommand, 1, {
      SecretId: arn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: TOKEN,
      RemoveFromVersionId: currentVersion,
    });
    expect(sm).toHaveReceivedNthCommandWith(UpdateSecretVersionStageCommand, 2, { SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: TOKEN });
    expect(stagesOf(arn)).toEqual({ [currentVersion]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] });
  });

  it('repeated (or after a partial finish), changes nothing more', async () => {
    const { arn, currentVersion } = rotatingSecret('admin-api-token', CANARY_TOKEN);
    await runSteps(arn);
    const after = stagesOf(arn);
    sm.resetHistory();

    for (const step of ROTATION_STEPS) expect((await rotateSecretValue.core(eventFor(arn, step), deps)).outcome).toBe('already-current');

    expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 0);
    expect(stagesOf(arn)).toEqual(after);
    expect(after).toEqual({ [currentVersion]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] });
  });
});

describe('rotate-secret-value: downstream credentials', () => {
  const USERNAME = 'ASSURE01';

  it('installs the pending password with the current one, logs in with it, and is idempotent', async () => {
    const provider = new InMemoryCredentialProvider({ [USERNAME]: CANARY_PASSWORD });
    const handler = createRotateSecretValue(() => provider);
    const { arn } = rotatingSecret('venue-session-password', CANARY_PASSWORD);

    await handler.core(eventFor(arn, 'createSecret'), deps);
    const pending = valueOf(arn, TOKEN) ?? '';
    expect(secretValueProblems(secretOf('venue-session-password'), pending)).toEqual([]);

    expect((await handler.core(eventFor(arn, 'setSecret'), deps)).outcome).toBe('set');
    expect(provider.password(USERNAME)).toBe(pending);
    // Again: the current password no longer logs in, the pending one does.
    expect((await handler.core(eventFor(arn, 'setSecret'), deps)).outcome).toBe('already-set');
    expect((await handler.core(eventFor(arn, 'testSecret'), deps)).outcome).toBe('tested');
    expect(provider.calls).toEqual([
      { operation: 'test', username: USERNAME, accepted: false },
      { operation: 'set', username: USERNAME, accepted: true },
      { operation: 'test', username: USERNAME, accepted: true },
      { operation: 'test', username: USERNAME, accepted: true },
    ]);
  });

  it('fails setSecret with CredentialRejectedError when the downstream system refuses the current password', async () => {
    const provider = new InMemoryCredentialProvider({ [USERNAME]: 'SomebodyChangedItOutOfBand000001' });
    const handler = createRotateSecretValue(() => provider);
    const { arn } = rotatingSecret('venue-session-password', CANARY_PASSWORD);
    await handler.core(eventFor(arn, 'createSecret'), deps);

    const error = await failure(handler.core(eventFor(arn, 'setSecret'), deps));

    expect(error).toBeInstanceOf(CredentialRejectedError);
    expect(error.message).not.toContain(CANARY_PASSWORD);
  });

  it('fails testSecret when the downstream system does not accept the pending password', async () => {
    const provider = new InMemoryCredentialProvider({ [USERNAME]: CANARY_PASSWORD });
    const handler = createRotateSecretValue(() => provider);
    const { arn } = rotatingSecret('venue-session-password', CANARY_PASSWORD);
    await handler.core(eventFor(arn, 'createSecret'), deps);

    // setSecret skipped: the system still has the current password.
    const error = await failure(handler.core(eventFor(arn, 'testSecret'), deps));

    expect(error).toBeInstanceOf(CredentialRejectedError);
  });

  it('rotates through HttpCredentialApiProvider against the simulated credential API', async () => {
    const api = new SimulatedCredentialApi(deps.fleet);
    api.seed((name) => (name === 'prod/venue/xlon-session-password' ? CANARY_PASSWORD : undefined));
    deps = { ...deps, http: vi.fn<HttpClient>((request) => api.request(request)) };
    const { arn } = rotatingSecret('venue-session-password', CANARY_PASSWORD);

    const results = await runSteps(arn);

    expect(results.map((r) => r.outcome)).toEqual(['created', 'set', 'tested', 'finished']);
    const newValue = valueOf(arn, TOKEN);
    expect(api.password('https://credentials.xlon.example.com/api', USERNAME)).toBe(newValue);
    expect(api.requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([
      'GET https://credentials.xlon.example.com/api/session 401',
      'POST https://credentials.xlon.example.com/api/credentials 200',
      'GET https://credentials.xlon.example.com/api/session 200',
    ]);
  });
});

describe('HttpCredentialApiProvider', () => {
  const URL_BASE = 'https://credentials.xlon.example.com/api/';
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('POSTs the new password to <url>/credentials with Basic auth of the current one', async () => {
    const http = vi.fn<HttpClient>().mockResolvedValue({ status: 204, body: '' });
    await new HttpCredentialApiProvider(URL_BASE, http).setCredential({ username: 'ASSURE01', current: 'old-password-0000', pending: 'new-password-1111' });

    expect(http).toHaveBeenCalledTimes(1);
    const request = http.mock.calls[0]?.[0] as HttpRequest;
    expect(request).toEqual({
      method: 'POST',
      url: 'https://credentials.xlon.example.com/api/credentials',
      headers: { authorization: basic('ASSURE01', 'old-password-0000'), 'content-type': 'application/json' },
      body: JSON.stringify({ newPassword: 'new-password-1111' }),
      timeoutMs: 5_000,
    });
  });

  it('GETs <url>/session with Basic auth of the value: 200 accepts it', async () => {
    const http = vi.fn<HttpClient>().mockResolvedValue({ status: 200, body: '{}' });
    await new HttpCredentialApiProvider(URL_BASE, http).testCredential({ username: 'ASSURE01', value: 'candidate-0000' });

    expect(http).toHaveBeenCalledWith({
      method: 'GET',
      url: 'https://credentials.xlon.example.com/api/session',
      headers: { authorization: basic('ASSURE01', 'candidate-0000') },
      timeoutMs: 5_000,
    });
  });

  it('refuses on anything else, naming the status and never the password or the echoed body', async () => {
    const echo = vi.fn<HttpClient>(async (request) => ({
      status: 401,
      body: `bad credentials: ${request.headers?.authorization ?? ''} ${request.body ?? ''}`,
    }));
    const provider = new HttpCredentialApiProvider(URL_BASE, echo);

    const set = await failure(provider.setCredential({ username: 'ASSURE01', current: CANARY_PASSWORD, pending: 'PendingCanary00000000000000000001' }));
    const test = await failure(provider.testCredential({ username: 'ASSURE01', value: CANARY_PASSWORD }));
    const redirect = await failure(
      new HttpCredentialApiProvider(URL_BASE, vi.fn<HttpClient>().mockResolvedValue({ status: 302, body: '' })).testCredential({
        username: 'ASSURE01',
        value: 'x',
      }),
    );

    expect(set).toBeInstanceOf(CredentialRejectedError);
    expect(set.message).toBe('POST https://credentials.xlon.example.com/api/credentials refused the password change for ASSURE01: HTTP 401');
    expect(test.message).toBe('GET https://credentials.xlon.example.com/api/session refused the login of ASSURE01: HTTP 401');
    expect(redirect).toBeInstanceOf(CredentialRejectedError);
    for (const error of [set, test]) {
      expect(error.message).not.toContain(CANARY_PASSWORD);
      expect(error.message).not.toContain('PendingCanary');
      expect(error.message).not.toContain(Buffer.from(`ASSURE01:${CANARY_PASSWORD}`).toString('base64'));
    }
  });

  it('reports an unreachable API by the error name only', async () => {
    const http = vi.fn<HttpClient>().mockRejectedValue(Object.assign(new Error(`connect ETIMEDOUT with body ${CANARY_PASSWORD}`), { name: 'TimeoutError' }));

    const error = await failure(new HttpCredentialApiProvider(URL_BASE, http).testCredential({ username: 'ASSURE01', value: CANARY_PASSWORD }));

    expect(error).toBeInstanceOf(CredentialProviderUnavailableError);
    expect(error.message).toBe('GET https://credentials.xlon.example.com/api/session failed: TimeoutError');
  });
});

describe('secret values', () => {
  it('generates each kind to its policy', () => {
    const kinds: FleetSecret[] = [
      { ...secretOf('admin-api-token'), kind: 'generated-token', length: 40, alphabet: 'alphanumeric' } as FleetSecret,
      { ...secretOf('admin-api-token'), kind: 'generated-token', length: 33, alphabet: 'hex' } as FleetSecret,
      { ...secretOf('admin-api-token'), kind: 'generated-token', length: 50, alphabet: 'base64url' } as FleetSecret,
      { ...secretOf('order-signing-key'), kind: 'signing-key', bytes: 64, encoding: 'base64' } as FleetSecret,
      { ...secretOf('order-signing-key'), kind: 'signing-key', bytes: 32, encoding: 'hex' } as FleetSecret,
      secretOf('venue-session-password'),
    ];
    for (const secret of kinds) {
      const values = new Set(Array.from({ length: 20 }, () => generateSecretValue(secret)));
      expect(values.size).toBe(20);
      for (const value of values) expect(secretValueProblems(secret, value), `${secret.kind} ${JSON.stringify(secret)}`).toEqual([]);
    }
    expect(generateSecretValue(kinds[1] as FleetSecret)).toMatch(/^[0-9a-f]{33}$/);
    expect(generateSecretValue(kinds[2] as FleetSecret)).toMatch(/^[A-Za-z0-9_-]{50}$/);
    expect(Buffer.from(generateSecretValue(kinds[3] as FleetSecret), 'base64')).toHaveLength(64);
    expect(generateSecretValue(kinds[4] as FleetSecret)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('draws characters without bias: bytes past the last full multiple of the alphabet are skipped', () => {
    // 62 characters: 248 = 4 × 62, so bytes 248-255 are rejected rather than folded onto A-H.
    const bytes = [248, 255, 0, 61, 62, 247];
    const value = randomChars(4, TOKEN_ALPHABETS.alphanumeric, (size) => Uint8Array.from({ length: size }, (_, i) => bytes[i % bytes.length] ?? 0));
    expect(value).toBe('A9A9');
  });

  it('describes a value outside the policy by length, alphabet and encoding only', () => {
    const key = secretOf('order-signing-key');
    expect(secretValueProblems(key, Buffer.alloc(63).toString('base64'))).toEqual(['decodes to 63 bytes, expected 64']);
    expect(secretValueProblems(key, 'not base64 at all!')).toEqual(['is not canonical base64']);
    // A base64 string with stray bits in its last character decodes, but is not what the generator makes.
    expect(secretValueProblems(key, `${Buffer.alloc(64).toString('base64').slice(0, -3)}B==`)).toEqual(['is not canonical base64']);
    expect(secretValueProblems(secretOf('venue-session-password'), 'short')).toEqual(['has 5 characters, expected 32']);
  });
});

describe('rotate-secret-value keeps secret values to itself', () => {
  it('no current or pending value in results, errors or logs, on success and on failure', async () => {
    const logs = captureLogs();
    try {
      const provider = new InMemoryCredentialProvider({ ASSURE01: CANARY_PASSWORD });
      deps = { ...deps, logger: logs.logger };
      const handler = createHandler(
        createRotateSecretValue(() => provider),
        deps,
      );
      const outputs: unknown[] = [];
      const { arn } = rotatingSecret('venue-session-password', CANARY_PASSWORD);
      for (const step of ROTATION_STEPS) outputs.push(await handler(eventFor(arn, step), lambdaContext('rotate-secret-value')));
      const pending = valueOf(arn, TOKEN) ?? 'unset';

      // A failed rotation of another secret: the downstream system refuses the current password.
      const other = createHandler(
        createRotateSecretValue(() => new InMemoryCredentialProvider()),
        deps,
      );
      store.secret(arn)?.versions.push({ versionId: 'f'.repeat(36), secretString: '', createdAt: Date.now(), stages: [], empty: true });
      await store.handle('UpdateSecretVersionStage', { SecretId: arn, VersionStage: 'AWSPENDING', MoveToVersionId: 'f'.repeat(36) });
      await other({ ...eventFor(arn, 'createSecret'), ClientRequestToken: 'f'.repeat(36) }, lambdaContext('rotate-secret-value'));
      const next = valueOf(arn, 'f'.repeat(36)) ?? 'unset';
      const error = await failure(other({ ...eventFor(arn, 'setSecret'), ClientRequestToken: 'f'.repeat(36) }, lambdaContext('rotate-secret-value')));

      expect(error).toBeInstanceOf(CredentialRejectedError);
      expect(logs.text()).toContain('rotate-secret-value failed');
      expect(logs.text()).toContain('finishSecret: finished');
      const visible = `${JSON.stringify(outputs)}\n${error.message}\n${error.stack ?? ''}\n${logs.text()}`;
      for (const value of [CANARY_PASSWORD, pending, next, ROTATION_TOKEN]) expect(visible).not.toContain(value);
    } finally {
      logs.restore();
    }
  });
});
