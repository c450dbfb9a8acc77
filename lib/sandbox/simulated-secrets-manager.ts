/**
 * Secrets Manager: secrets with versions and staging labels. Each label is on at
 * most one version; moving AWSCURRENT moves AWSPREVIOUS to the version it left.
 * PutSecretValue is idempotent per ClientRequestToken (same value) and refuses a
 * different value under the same token. A version with no label is deprecated:
 * ListSecretVersionIds leaves it out unless IncludeDeprecated.
 *
 * RotateSecret works as AWS documents it: it creates the new version (id = the
 * ClientRequestToken) staged AWSPENDING with no value yet, answers at once, and
 * then, asynchronously, invokes the rotation function's createSecret, setSecret,
 * testSecret and finishSecret with that token. The outcome goes to EventBridge
 * as CloudTrail service events (RotationStarted, then RotationSucceeded or
 * RotationFailed; `detail.additionalEventData.SecretId` = the secret's ARN). A
 * failed rotation leaves AWSPENDING on the new version, so the next RotateSecret
 * is refused until it is cleared. Steps run once each (no retries); a rotation
 * in flight is not part of a saved sandbox.
 */
import { SimulatedAwsError } from './aws-error';
import type { SeededRandom } from './deterministic';
import type { SimulatedService } from './sdk-transport';
import { outsideFunctionInvocations } from './simulated-lambda';

export interface SecretVersionRecord {
  readonly versionId: string;
  secretString: string;
  readonly createdAt: number;
  stages: string[];
  /** Created by RotateSecret with no value yet: GetSecretValue does not find it until PutSecretValue gives it one. */
  empty?: boolean;
}

export interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  description?: string;
  versions: SecretVersionRecord[];
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  rotationRules?: { AutomaticallyAfterDays?: number; ScheduleExpression?: string };
  lastRotatedAt?: number;
  lastChangedAt: number;
}

/** Invoked with the rotation steps, as Secrets Manager invokes a rotation function. */
export type RotationInvoker = (functionArn: string, event: { Step: string; SecretId: string; ClientRequestToken: string; RotationToken: string }) => Promise<void>;

/** Puts a Secrets Manager event on the account's default bus (source `aws.secretsmanager`). */
export type SecretsManagerEventEmitter = (detailType: string, resources: readonly string[], detail: Record<string, unknown>) => void;

/** The CloudTrail service events Secrets Manager sends for a rotation. */
export type RotationEventName = 'RotationStarted' | 'RotationSucceeded' | 'RotationFailed';

const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export class SimulatedSecretsManager implements SimulatedService {
  private readonly secrets = new Map<string, SecretRecord>();
  /** Secrets (by ARN) whose rotation steps are running. */
  private readonly inProgress = new Set<string>();
  readonly rotations: { at: number; secret: string; token: string; outcome: 'succeeded' | 'failed'; error?: string }[] = [];

  constructor(
    private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom },
    private readonly invokeRotation?: RotationInvoker,
    private readonly emitEvent?: SecretsManagerEventEmitter,
  ) {}

  snapshot(): SecretRecord[] {
    return structuredClone([...this.secrets.values()]);
  }

  restore(records: readonly SecretRecord[]): void {
    for (const record of structuredClone(records)) this.secrets.set(record.name, record);
  }

  /** The secret, by name or ARN. */
  secret(id: string): SecretRecord | undefined {
    return this.secrets.get(id) ?? [...this.secrets.values()].find((s) => s.arn === id);
  }

  /** The version holding a stage (AWSCURRENT by default), if it has a value. */
  versionWithStage(id: string, stage = 'AWSCURRENT'): SecretVersionRecord | undefined {
    return this.secret(id)?.versions.find((v) => v.stages.includes(stage) && !v.empty);
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'CreateSecret':
        return this.createSecret(input);
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      case 'UpdateSecretVersionStage':
        return this.updateSecretVersionStage(input);
      case 'ListSecretVersionIds': {
        const secret = this.require(input.SecretId);
        return {
          ARN: secret.arn,
          Name: secret.name,
          // Versions without a staging label are deprecated: listed only on request.
          Versions: secret.versions
            .filter((v) => input.IncludeDeprecated === true || v.stages.length > 0)
            .map((v) => ({ VersionId: v.versionId, VersionStages: [...v.stages], CreatedDate: new Date(v.createdAt) })),
        };
      }
      case 'GetRandomPassword':
        return { RandomPassword: this.randomPassword(input) };
      case 'RotateSecret':
        return this.rotateSecret(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement Secrets Manager ${operation}`);
    }
  }

  createSecret(input: Record<string, unknown>): { ARN: string; Name: string; VersionId: string } {
    const name = String(input.Name ?? '');
    if (!/^[\w/+=.@-]{1,512}$/.test(name)) throw new SimulatedAwsError('InvalidParameterException', `Invalid name: ${name}`);
    if (this.secrets.has(name)) throw new SimulatedAwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    const versionId = String(input.ClientRequestToken ?? this.context.random.uuid());
    const record: SecretRecord = {
      arn: `arn:aws:secretsmanager:${this.context.region}:${this.context.account}:secret:${name}-${this.context.random.chars(6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')}`,
      name,
      ...(input.Description ? { description: String(input.Description) } : {}),
      versions: [],
      rotationEnabled: false,
      lastChangedAt: Date.now(),
    };
    if (typeof input.SecretString === 'string') {
      record.versions.push({ versionId, secretString: input.SecretString, createdAt: Date.now(), stages: ['AWSCURRENT'] });
    }
    this.secrets.set(name, record);
    return { ARN: record.arn, Name: name, VersionId: versionId };
  }

  private require(id: unknown): SecretRecord {
    const secret = this.secret(String(id ?? ''));
    if (!secret) throw new SimulatedAwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  private getSecretValue(input: Record<string, unknown>): object {
    const secret = this.require(input.SecretId);
    const versionId = input.VersionId as string | undefined;
    const stage = input.VersionStage as string | undefined;
    const version = secret.versions.find(
      (v) => (versionId === undefined || v.versionId === versionId) && (stage !== undefined ? v.stages.includes(stage) : versionId !== undefined || v.stages.includes('AWSCURRENT')),
    );
    if (!version || version.empty) {
      throw new SimulatedAwsError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage ?? 'AWSCURRENT'}`}`,
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      SecretString: version.secretString,
      VersionStages: [...version.stages],
      CreatedDate: new Date(version.createdAt),
    };
  }

  private putSecretValue(input: Record<string, unknown>): object {
    const secret = this.require(input.SecretId);
    const token = String(input.ClientRequestToken ?? this.context.random.uuid());
    const value = input.SecretString;
    if (typeof value !== 'string') throw new SimulatedAwsError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing?.empty) {
      // The version RotateSecret created for this token: createSecret gives it its value.
      existing.secretString = value;
      delete existing.empty;
      for (const stage of (input.VersionStages as string[] | undefined) ?? ['AWSCURRENT']) this.attachStage(secret, stage, existing);
      secret.lastChangedAt = Date.now();
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    if (existing) {
      if (existing.secretString !== value) {
        throw new SimulatedAwsError('ResourceExistsException', `A resource with the ID you requested already exists (version ${token} has a different value).`);
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    const stages = (input.VersionStages as string[] | undefined) ?? ['AWSCURRENT'];
    const version: SecretVersionRecord = { versionId: token, secretString: value, createdAt: Date.now(), stages: [] };
    secret.versions.push(version);
    for (const stage of stages) this.attachStage(secret, stage, version);
    secret.lastChangedAt = Date.now();
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
  }

  private describeSecret(input: Record<string, unknown>): object {
    const secret = this.require(input.SecretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description ? { Description: secret.description } : {}),
      RotationEnabled: secret.rotationEnabled,
      ...(secret.rotationLambdaArn ? { RotationLambdaARN: secret.rotationLambdaArn } : {}),
      ...(secret.rotationRules ? { RotationRules: secret.rotationRules } : {}),
      ...(secret.lastRotatedAt ? { LastRotatedDate: new Date(secret.lastRotatedAt) } : {}),
      ...(secret.rotationEnabled && secret.rotationRules?.AutomaticallyAfterDays
        ? { NextRotationDate: new Date((secret.lastRotatedAt ?? secret.lastChangedAt) + secret.rotationRules.AutomaticallyAfterDays * 86_400_000) }
        : {}),
      LastChangedDate: new Date(secret.lastChangedAt),
      VersionIdsToStages: Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]])),
    };
  }

  private updateSecretVersionStage(input: Record<string, unknown>): object {
    const secret = this.require(input.SecretId);
    const stage = String(input.VersionStage ?? '');
    const moveTo = input.MoveToVersionId as string | undefined;
    const removeFrom = input.RemoveFromVersionId as string | undefined;
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (holder && moveTo !== undefined && holder.versionId !== moveTo && removeFrom !== holder.versionId) {
      throw new SimulatedAwsError(
        'InvalidParameterException',
        `The staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    if (removeFrom !== undefined) {
      const from = secret.versions.find((v) => v.versionId === removeFrom);
      if (!from?.stages.includes(stage)) throw new SimulatedAwsError('InvalidParameterException', `Version ${removeFrom} does not have the staging label ${stage}.`);
      if (moveTo === undefined && stage === 'AWSCURRENT') {
        throw new SimulatedAwsError('InvalidParameterException', 'You can only move AWSCURRENT to another version; you cannot remove it.');
      }
      from.stages = from.stages.filter((s) => s !== stage);
    }
    if (moveTo !== undefined) {
      const to = secret.versions.find((v) => v.versionId === moveTo);
      if (!to) throw new SimulatedAwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${moveTo}`);
      this.attachStage(secret, stage, to, holder);
    }
    secret.lastChangedAt = Date.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  /** Attaches a stage to a version, removing it from any other; AWSPREVIOUS follows a moved AWSCURRENT. */
  private attachStage(secret: SecretRecord, stage: string, version: SecretVersionRecord, previousHolder?: SecretVersionRecord): void {
    const holder = previousHolder ?? secret.versions.find((v) => v !== version && v.stages.includes(stage));
    for (const v of secret.versions) if (v !== version) v.stages = v.stages.filter((s) => s !== stage);
    if (!version.stages.includes(stage)) version.stages.push(stage);
    if (stage === 'AWSCURRENT' && holder && holder !== version) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      holder.stages.push('AWSPREVIOUS');
    }
  }

  private randomPassword(input: Record<string, unknown>): string {
    const length = Number(input.PasswordLength ?? 32);
    if (!Number.isInteger(length) || length < 1 || length > 4096) throw new SimulatedAwsError('InvalidParameterException', 'PasswordLength must be between 1 and 4096.');
    let alphabet = '';
    if (input.ExcludeLowercase !== true) alphabet += 'abcdefghijklmnopqrstuvwxyz';
    if (input.ExcludeUppercase !== true) alphabet += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    if (input.ExcludeNumbers !== true) alphabet += '0123456789';
    if (input.ExcludePunctuation !== true) alphabet += '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
    if (input.IncludeSpace === true) alphabet += ' ';
    const excluded = String(input.ExcludeCharacters ?? '');
    alphabet = [...alphabet].filter((c) => !excluded.includes(c)).join('');
    if (alphabet.length === 0) throw new SimulatedAwsError('InvalidParameterException', 'No characters are left to choose from.');
    return this.context.random.chars(length, alphabet);
  }

  /**
   * RotateSecret: records the rotation settings, creates the new version (staged
   * AWSPENDING, no value) and runs the rotation function's four steps with its
   * token, reporting the outcome as AWS does (see the class comment).
   */
  private async rotateSecret(input: Record<string, unknown>): Promise<object> {
    const secret = this.require(input.SecretId);
    if (input.RotationLambdaARN) secret.rotationLambdaArn = String(input.RotationLambdaARN);
    if (input.RotationRules) secret.rotationRules = input.RotationRules as SecretRecord['rotationRules'];
    if (!secret.rotationLambdaArn || !this.invokeRotation) {
      throw new SimulatedAwsError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    }
    const pending = secret.versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));
    if (pending) {
      throw new SimulatedAwsError('InvalidRequestException', `A previous rotation isn't complete. That rotation will be reattempted. (version ${pending.versionId} is AWSPENDING)`);
    }
    secret.rotationEnabled = true;
    const token = String(input.ClientRequestToken ?? this.context.random.uuid());
    if (input.RotateImmediately === false) return { ARN: secret.arn, Name: secret.name, VersionId: token };
    if (token.length < 32 || token.length > 64) throw new SimulatedAwsError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters.');
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing && !existing.empty) {
      throw new SimulatedAwsError('ResourceExistsException', `A resource with the ID you requested already exists (version ${token}).`);
    }
    // The new version exists before createSecret runs: AWSPENDING, no value (AWS's rotation templates rely on it).
    const pendingVersion = existing ?? { versionId: token, secretString: '', createdAt: Date.now(), stages: [], empty: true };
    if (!existing) secret.versions.push(pendingVersion);
    this.attachStage(secret, 'AWSPENDING', pendingVersion);
    this.emitRotationEvent('RotationStarted', secret);
    const invoke = this.invokeRotation;
    const functionArn = secret.rotationLambdaArn;
    this.inProgress.add(secret.arn);
    // Asynchronous, as in AWS: the answer does not wait for the steps. Outside the caller's
    // invocation, so the steps are not the calling function's work (nor its logs).
    outsideFunctionInvocations(() => void this.runRotation(secret, token, functionArn, invoke));
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  /** Whether a rotation RotateSecret started is still running its steps. */
  rotating(id: string): boolean {
    const secret = this.secret(id);
    return secret !== undefined && this.inProgress.has(secret.arn);
  }

  private async runRotation(secret: SecretRecord, token: string, functionArn: string, invoke: RotationInvoker): Promise<void> {
    const rotationToken = this.context.random.uuid();
    try {
      for (const step of ROTATION_STEPS) {
        await invoke(functionArn, { Step: step, SecretId: secret.arn, ClientRequestToken: token, RotationToken: rotationToken });
      }
      secret.lastRotatedAt = Date.now();
      this.rotations.push({ at: Date.now(), secret: secret.name, token, outcome: 'succeeded' });
      this.emitRotationEvent('RotationSucceeded', secret);
    } catch (error) {
      // AWSPENDING stays on the new version: the next RotateSecret is refused until someone clears it.
      this.rotations.push({ at: Date.now(), secret: secret.name, token, outcome: 'failed', error: `${(error as Error).name}: ${(error as Error).message}` });
      this.emitRotationEvent('RotationFailed', secret);
    } finally {
      this.inProgress.delete(secret.arn);
    }
  }

  /**
   * A rotation's CloudTrail service event as EventBridge carries it: detail-type
   * `AWS Service Event via CloudTrail`, no resources, the secret's ARN in
   * `detail.additionalEventData.SecretId` (AWS's documented example shape).
   */
  static rotationEventDetail(eventName: RotationEventName, secretArn: string, context: { account: string; region: string }, eventId: string, at = new Date()): Record<string, unknown> {
    const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      eventVersion: '1.08',
      userIdentity: { accountId: context.account, invokedBy: 'secretsmanager.amazonaws.com' },
      eventTime: time,
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      awsRegion: context.region,
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: secretArn },
      requestID: `Rotation-${secretArn}-${eventId}`,
      eventID: eventId,
      readOnly: false,
      eventType: 'AwsServiceEvent',
      managementEvent: true,
      recipientAccountId: context.account,
      eventCategory: 'Management',
    };
  }

  private emitRotationEvent(eventName: RotationEventName, secret: SecretRecord): void {
    this.emitEvent?.('AWS Service Event via CloudTrail', [], SimulatedSecretsManager.rotationEventDetail(eventName, secret.arn, this.context, this.context.random.uuid()));
  }
}
