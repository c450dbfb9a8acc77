/**
 * Secrets Manager in the sandbox answers as AWS documents it (staging labels,
 * PutSecretValue idempotency, deprecated versions), and RotateSecret with the
 * rotation function wired rotates each kind of managed secret: stages after,
 * the EventBridge events, the downstream credential API, and no value in logs.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { rotateSecretValue } from '../../functions/rotate-secret-value/core';
import { secretValueProblems } from '../../functions/shared/domain/secret-values';
import { functionName } from '../../lib/naming';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { openSandbox } from '../support/sandbox';

const TOKEN_A = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
const TOKEN_B = 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb';
const VENUE_API = 'https://credentials.xlon.example.com/api';

const send = <T>(sandbox: Sandbox, work: Promise<T>): Promise<T> => sandbox.complete(work);
const sm = (sandbox: Sandbox) => sandbox.clients.secretsManager;
const stagesOf = async (sandbox: Sandbox, secretId: string): Promise<Record<string, string[]>> =>
  (await send(sandbox, sm(sandbox).send(new DescribeSecretCommand({ SecretId: secretId })))).VersionIdsToStages ?? {};
const valueOf = (sandbox: Sandbox, secretId: string, stage = 'AWSCURRENT'): string =>
  sandbox.secretsManager.versionWithStage(secretId, stage)?.secretString ?? '';
const rejection = (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('Secrets Manager staging labels and versions', () => {
  it('moves AWSPREVIOUS with AWSCURRENT, and lists label-less versions only with IncludeDeprecated', async () => {
    const sandbox = await openSandbox();
    const name = 'prod/trading/admin-api-token';
    const first = Object.keys(await stagesOf(sandbox, name))[0] ?? '';
    await send(
      sandbox,
      sm(sandbox).send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: TOKEN_A, SecretString: 'A'.repeat(40), VersionStages: ['AWSPENDING'] })),
    );
    expect(await stagesOf(sandbox, name)).toEqual({ [first]: ['AWSCURRENT'], [TOKEN_A]: ['AWSPENDING'] });

    // AWSCURRENT already on another version: RemoveFromVersionId is required.
    const refused = await rejection(
      send(sandbox, sm(sandbox).send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_A }))),
    );
    expect((refused as Error).name).toBe('InvalidParameterException');

    await send(
      sandbox,
      sm(sandbox).send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_A, RemoveFromVersionId: first }),
      ),
    );
    expect(await stagesOf(sandbox, name)).toEqual({ [first]: ['AWSPREVIOUS'], [TOKEN_A]: ['AWSPENDING', 'AWSCURRENT'] });

    // A third value: AWSPREVIOUS moves on, and the first version is left with no label (deprecated).
    await send(sandbox, sm(sandbox).send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: TOKEN_B, SecretString: 'B'.repeat(40) })));
    // A version made by hand removes AWSPENDING (RotationAbandoned, "Logging AWS Secrets Manager events with AWS CloudTrail").
    expect(await stagesOf(sandbox, name)).toEqual({ [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSCURRENT'] });
    const listed = await send(sandbox, sm(sandbox).send(new ListSecretVersionIdsCommand({ SecretId: name })));
    expect(listed.Versions?.map((v) => v.VersionId).sort()).toEqual([TOKEN_A, TOKEN_B]);
    const all = await send(sandbox, sm(sandbox).send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true })));
    expect(all.Versions?.map((v) => v.VersionId).sort()).toEqual([first, TOKEN_A, TOKEN_B].sort());
    const previous = await send(sandbox, sm(sandbox).send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })));
    expect(previous.SecretString).toBe('A'.repeat(40));
  });

  it('PutSecretValue is idempotent per ClientRequestToken with the same value, and refuses another value', async () => {
    const sandbox = await openSandbox();
    const name = 'prod/trading/admin-api-token';
    const put = (value: string) =>
      send(
        sandbox,
        sm(sandbox).send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: TOKEN_A, SecretString: value, VersionStages: ['AWSPENDING'] })),
      );
    await put('A'.repeat(40));
    const again = await put('A'.repeat(40));

    expect(again.VersionId).toBe(TOKEN_A);
    expect(sandbox.secretsManager.secret(name)?.versions).toHaveLength(2);
    expect(await rejection(put('C'.repeat(40)))).toBeInstanceOf(ResourceExistsException);
  });
});

describe('RotateSecret with the rotation function', () => {
  /** RotateSecret answers at once; the steps run after. Waits for them. */
  async function rotate(sandbox: Sandbox, secretId: string, functionArn: string, token?: string) {
    const answer = await send(
      sandbox,
      sm(sandbox).send(
        new RotateSecretCommand({
          SecretId: secretId,
          RotationLambdaARN: functionArn,
          RotationRules: { AutomaticallyAfterDays: 30 },
          ...(token ? { ClientRequestToken: token } : {}),
        }),
      ),
    );
    expect(await sandbox.clock.runUntil(() => !sandbox.secretsManager.rotating(secretId), 15 * 60_000)).toBe('done');
    return answer;
  }

  it('answers at once, with the new version AWSPENDING and no value yet; the steps run after', async () => {
    const sandbox = await openSandbox();
    const functionArn = sandbox.createHandlerFunction(rotateSecretValue, functionName(sandbox.fleet.environment, 'rotate-secret', rotateSecretValue.name));
    const name = 'prod/trading/admin-api-token';
    const current = sandbox.secretsManager.versionWithStage(name)?.versionId ?? '';

    await send(sandbox, sm(sandbox).send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: functionArn, ClientRequestToken: TOKEN_A })));

    expect(sandbox.secretsManager.rotating(name)).toBe(true);
    expect(await stagesOf(sandbox, name)).toEqual({ [current]: ['AWSCURRENT'], [TOKEN_A]: ['AWSPENDING'] });
    // A second RotateSecret while this one runs: a rotation is in progress.
    expect(await rejection(send(sandbox, sm(sandbox).send(new RotateSecretCommand({ SecretId: name, ClientRequestToken: TOKEN_B }))))).toBeInstanceOf(
      InvalidRequestException,
    );
    await sandbox.clock.runUntil(() => !sandbox.secretsManager.rotating(name));
    expect(await stagesOf(sandbox, name)).toEqual({ [current]: ['AWSPREVIOUS'], [TOKEN_A]: ['AWSCURRENT'] });
  });

  it('rotates each kind: the new version AWSCURRENT, the old AWSPREVIOUS, no AWSPENDING, a value to policy', async () => {
    const sandbox = await openSandbox();
    const functionArn = sandbox.createHandlerFunction(rotateSecretValue, functionName(sandbox.fleet.environment, 'rotate-secret', rotateSecretValue.name));
    for (const secret of Object.values(sandbox.fleet.secrets)) {
      const before = sandbox.secretsManager.versionWithStage(secret.name);
      const result = await rotate(sandbox, secret.name, functionArn, TOKEN_A);

      expect(result.VersionId).toBe(TOKEN_A);
      expect(await stagesOf(sandbox, secret.name), secret.id).toEqual({ [before?.versionId ?? '']: ['AWSPREVIOUS'], [TOKEN_A]: ['AWSCURRENT'] });
      const value = valueOf(sandbox, secret.name);
      expect(value).not.toBe(before?.secretString);
      expect(secretValueProblems(secret, value), secret.id).toEqual([]);
      const described = await send(sandbox, sm(sandbox).send(new DescribeSecretCommand({ SecretId: secret.name })));
      expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: functionArn, RotationRules: { AutomaticallyAfterDays: 30 } });
      const rotatedAt = described.LastRotatedDate?.getTime() ?? 0;
      expect(rotatedAt).toBeGreaterThan(0);
      expect(described.NextRotationDate?.getTime()).toBe(rotatedAt + 30 * 86_400_000);
    }
    expect(sandbox.secretsManager.rotations.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('a second rotation works (AWSPENDING ended on no version) and AWSPREVIOUS moves on', async () => {
    const sandbox = await openSandbox();
    const functionArn = sandbox.createHandlerFunction(rotateSecretValue, functionName(sandbox.fleet.environment, 'rotate-secret', rotateSecretValue.name));
    const name = 'prod/trading/order-signing-key';
    const first = sandbox.secretsManager.versionWithStage(name)?.versionId ?? '';
    await rotate(sandbox, name, functionArn, TOKEN_A);
    await rotate(sandbox, name, functionArn, TOKEN_B);

    expect(await stagesOf(sandbox, name)).toEqual({ [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSCURRENT'] });
    const all = await send(sandbox, sm(sandbox).send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true })));
    expect(all.Versions?.find((v) => v.VersionId === first)?.VersionStages).toEqual([]);
  });

  it('changes the downstream password through the simulated credential API; the old one stops working', async () => {
    const sandbox = await openSandbox();
    const functionArn = sandbox.createHandlerFunction(rotateSecretValue, functionName(sandbox.fleet.environment, 'rotate-secret', rotateSecretValue.name));
    const name = 'prod/venue/xlon-session-password';
    const old = valueOf(sandbox, name);
    expect(sandbox.credentialApi.password(VENUE_API, 'ASSURE01')).toBe(old);

    await rotate(sandbox, name, functionArn);

    const current = valueOf(sandbox, name);
    expect(sandbox.credentialApi.password(VENUE_API, 'ASSURE01')).toBe(current);
    const login = (password: string) =>
      sandbox.http({
        method: 'GET',
        url: `${VENUE_API}/session`,
        headers: { authorization: `Basic ${Buffer.from(`ASSURE01:${password}`).toString('base64')}` },
        timeoutMs: 1_000,
      });
    expect((await login(current)).status).toBe(200);
    expect((await login(old)).status).toBe(401);
    expect(sandbox.credentialApi.requests.map((r) => `${r.method} ${r.url} ${r.username ?? '-'} ${r.status}`)).toEqual([
      `GET ${VENUE_API}/session ASSURE01 401`,
      `POST ${VENUE_API}/credentials ASSURE01 200`,
      `GET ${VENUE_API}/session ASSURE01 200`,
      `GET ${VENUE_API}/session ASSURE01 200`,
      `GET ${VENUE_API}/session ASSURE01 401`,
    ]);
  });

  it('emits RotationStarted and RotationSucceeded as CloudTrail service events naming the secret ARN', async () => {
    const sandbox = await openSandbox();
    const functionArn = sandbox.createHandlerFunction(rotateSecretValue, functionName(sandbox.fleet.environment, 'rotate-secret', rotateSecretValue.name));
    const arn = sandbox.secretsManager.secret('prod/trading/admin-api-token')?.arn ?? '';
    await rotate(sandbox, arn, functionArn);

    const events = sandbox.eventBridge.events.filter((e) => e.source === 'aws.secretsmanager');
    expect(events.map((e) => e.detail.eventName)).toEqual(['RotationStarted', 'RotationSucceeded']);
    for (const event of events) {
      expect(event).toMatchObject({ 'detail-type': 'AWS Service Event via CloudTrail', account: '111122223333', region: 'eu-west-2', resources: [] });
      expect(event.detail).toMatchObject({
        eventSource: 'secretsmanager.amazonaws.com',
        eventType: 'AwsServiceEvent',
        awsRegion: 'eu-west-2',
        recipientAccountId: '111122223333',
        requestParameters: null,
        responseElements: null,
        additionalEventData: { SecretId: arn },
      });
      expect(event.detail.eventTime).toBe(event.time);
    }
  });

  it('a failed rotation emits RotationFailed, leaves AWSPENDING on the new version, and the next RotateSecret is refused', async () => {
    const sandbox = await openSandbox();
    const functionArn = sandbox.createHandlerFunction(rotateSecretValue, functionName(sandbox.fleet.environment, 'rotate-secret', rotateSecretValue.name));
    const name = 'prod/venue/xlon-session-password';
    const before = sandbox.secretsManager.versionWithStage(name);
    // Someone changed the venue password by hand: the current value no longer logs in.
    const account = sandbox.credentialApi.snapshot().map((a) => ({ ...a, password: 'ChangedByHandChangedByHand000001' }));
    sandbox.credentialApi.restore(account);

    // RotateSecret itself succeeds: the rotation fails afterwards, as in AWS.
    expect((await rotate(sandbox, name, functionArn, TOKEN_A)).VersionId).toBe(TOKEN_A);

    expect(sandbox.secretsManager.rotations).toMatchObject([
      { secret: name, token: TOKEN_A, outcome: 'failed', error: expect.stringContaining('CredentialRejectedError') as unknown },
    ]);
    expect(sandbox.eventBridge.events.filter((e) => e.source === 'aws.secretsmanager').map((e) => e.detail.eventName)).toEqual([
      'RotationStarted',
      'RotationFailed',
    ]);
    expect(await stagesOf(sandbox, name)).toEqual({ [before?.versionId ?? '']: ['AWSCURRENT'], [TOKEN_A]: ['AWSPENDING'] });
    expect(valueOf(sandbox, name)).toBe(before?.secretString);
    expect(await rejection(rotate(sandbox, name, functionArn, TOKEN_B))).toBeInstanceOf(InvalidRequestException);
  });

  it('GetSecretValue does not find the version RotateSecret made until createSecret gives it a value', async () => {
    const sandbox = await openSandbox();
    // A rotation function that fails at once, before putting any value.
    const functionArn = sandbox.lambda.createFunction({
      functionName: 'broken-rotation',
      handler: () => Promise.reject(Object.assign(new Error('boom'), { name: 'Boom' })),
      timeoutSeconds: 30,
    });
    const name = 'prod/trading/admin-api-token';
    await rotate(sandbox, name, functionArn, TOKEN_A);

    expect((await stagesOf(sandbox, name))[TOKEN_A]).toEqual(['AWSPENDING']);
    const missing = await rejection(send(sandbox, sm(sandbox).send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' }))));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it("keeps every secret value out of the rotation function's logs", async () => {
    const sandbox = await openSandbox();
    const functionArn = sandbox.createHandlerFunction(rotateSecretValue, functionName(sandbox.fleet.environment, 'rotate-secret', rotateSecretValue.name));
    const values: string[] = [];
    for (const secret of Object.values(sandbox.fleet.secrets)) {
      values.push(valueOf(sandbox, secret.name));
      await rotate(sandbox, secret.name, functionArn);
      values.push(valueOf(sandbox, secret.name));
    }
    const logs = sandbox.lambda
      .logLines()
      .map((l) => l.message)
      .join('\n');

    expect(logs).toContain('finishSecret: finished');
    for (const value of values) expect(logs).not.toContain(value);
  });
});
