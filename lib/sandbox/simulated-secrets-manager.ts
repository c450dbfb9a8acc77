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
 *
 * RotateSecret with RotateImmediately false configures rotation and tests it by
 * running the function's testSecret step against AWSCURRENT (AWSPENDING staged
 * on the current version for the test, then removed). Rotations then start on
 * schedule (secrets-manager/rotation-schedule.ts), on the virtual clock. A new
 * version created by hand (PutSecretValue) abandons any rotation: AWSPENDING is
 * removed from the version that has it and RotationAbandoned sent ("Logging AWS
 * Secrets Manager events with AWS CloudTrail").
 */
import { SimulatedAwsError } from './aws-error';
import type { SeededRandom } from './deterministic';
import type { SimulatedService } from './sdk-transport';
import { type RandomPasswordRequest, randomPassword } from './secrets-manager/random-password';
import { rotationEventDetail } from './secrets-manager/rotation-events';
import { type RotationRules, nextRotationDue, rotationRulesProblem } from './secrets-manager/rotation-schedule';
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
  rotationRules?: RotationRules;
  lastRotatedAt?: number;
  /** The previous rotation (started, or a value put by hand) the schedule counts from. */
  rotationBase?: number;
  lastChangedAt: number;
}

/** Invoked with the rotation steps, as Secrets Manager invokes a rotation function. */
export type RotationInvoker = (
  functionArn: string,
  event: { Step: string; SecretId: string; ClientRequestToken: string; RotationToken: string },
) => Promise<void>;

/** Puts a Secrets Manager event on the account's default bus (source `aws.secretsmanager`). */
export type SecretsManagerEventEmitter = (detailType: string, resources: readonly string[], detail: Record<string, unknown>) => void;

/** The CloudTrail service events Secrets Manager sends for a rotation. */
export type RotationEventName = 'RotationStarted' | 'RotationSucceeded' | 'RotationFailed' | 'RotationAbandoned';

const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const DAY_MS = 86_400_000;

export class SimulatedSecretsManager implements SimulatedService {
  private readonly secrets = new Map<string, SecretRecord>();
  /** Secrets (by ARN) whose rotation steps are running. */
  private readonly inProgress = new Set<string>();
  readonly rotations: { at: number; secret: string; token: string; outcome: 'succeeded' | 'failed'; error?: string; scheduled?: boolean }[] = [];
  /** The testSecret runs with which RotateSecret (RotateImmediately false) tests a rotation configuration. */
  readonly rotationTests: { at: number; secret: string; versionId: string; outcome: 'passed' | 'failed'; error?: string }[] = [];
  /** The pending scheduled rotation of each secret (by ARN). */
  private readonly schedules = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom },
    private readonly invokeRotation?: RotationInvoker,
    private readonly emitEvent?: SecretsManagerEventEmitter,
  ) {}

  snapshot(): SecretRecord[] {
    return structuredClone([...this.secrets.values()]);
  }

  restore(records: readonly SecretRecord[]): void {
    for (const record of structuredClone(records)) {
      this.secrets.set(record.name, record);
      this.schedule(record);
    }
  }

  /** Cancels every scheduled rotation. */
  stop(): void {
    for (const timer of this.schedules.values()) clearTimeout(timer);
    this.schedules.clear();
  }

  /** GetRandomPassword, for the sandbox's own seeding too. */
  generatePassword(request: RandomPasswordRequest): string {
    return randomPassword(request, this.context.random);
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
        return { RandomPassword: this.generatePassword(input as RandomPasswordRequest) };
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
      (v) =>
        (versionId === undefined || v.versionId === versionId) &&
        (stage !== undefined ? v.stages.includes(stage) : versionId !== undefined || v.stages.includes('AWSCURRENT')),
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
    if (!stages.includes('AWSPENDING')) this.abandonRotation(secret);
    for (const stage of stages) this.attachStage(secret, stage, version);
    secret.lastChangedAt = Date.now();
    // "Manually updating the secret value by calling PutSecretValue or UpdateSecret is considered a valid rotation."
    if (stages.includes('AWSCURRENT')) {
      secret.rotationBase = Date.now();
      this.schedule(secret);
    }
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
      ...(this.nextRotation(secret) !== undefined ? { NextRotationDate: new Date(this.nextRotation(secret) ?? 0) } : {}),
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
      if (!from?.stages.includes(stage))
        throw new SimulatedAwsError('InvalidParameterException', `Version ${removeFrom} does not have the staging label ${stage}.`);
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

  /**
   * A version created by hand abandons any rotation: AWSPENDING comes off the
   * version that has it, so future rotations succeed, and RotationAbandoned says so.
   */
  private abandonRotation(secret: SecretRecord): void {
    const pending = secret.versions.find((v) => v.stages.includes('AWSPENDING'));
    if (!pending) return;
    pending.stages = pending.stages.filter((s) => s !== 'AWSPENDING');
    this.emitRotationEvent('RotationAbandoned', secret);
  }

  /**
   * RotateSecret: records the rotation settings; then either rotates now (the new
   * version staged AWSPENDING with no value, the four steps run with its token,
   * the outcome reported as AWS does; see the class comment) or, with
   * RotateImmediately false, tests the configuration with testSecret. Either way
   * the next rotation is scheduled.
   */
  private async rotateSecret(input: Record<string, unknown>): Promise<object> {
    const secret = this.require(input.SecretId);
    if (input.RotationRules) {
      const problem = rotationRulesProblem(input.RotationRules as RotationRules);
      if (problem) throw new SimulatedAwsError('InvalidParameterException', problem);
    }
    if (input.RotationLambdaARN) secret.rotationLambdaArn = String(input.RotationLambdaARN);
    if (input.RotationRules) secret.rotationRules = input.RotationRules as RotationRules;
    if (!secret.rotationLambdaArn || !this.invokeRotation) {
      throw new SimulatedAwsError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    }
    const pending = secret.versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));
    if (pending) {
      throw new SimulatedAwsError(
        'InvalidRequestException',
        `A previous rotation isn't complete. That rotation will be reattempted. (version ${pending.versionId} is AWSPENDING)`,
      );
    }
    secret.rotationEnabled = true;
    const token = String(input.ClientRequestToken ?? this.context.random.uuid());
    if (input.RotateImmediately === false) {
      secret.rotationBase ??= Date.now();
      this.testRotationConfiguration(secret);
      this.schedule(secret);
      return { ARN: secret.arn, Name: secret.name, VersionId: token };
    }
    if (token.length < 32 || token.length > 64) throw new SimulatedAwsError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters.');
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing && !existing.empty) {
      throw new SimulatedAwsError('ResourceExistsException', `A resource with the ID you requested already exists (version ${token}).`);
    }
    this.startRotation(secret, token, false);
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  /** Creates the new version (AWSPENDING, no value yet: AWS's rotation templates rely on it) and runs the steps, asynchronously. */
  private startRotation(secret: SecretRecord, token: string, scheduled: boolean): void {
    const functionArn = secret.rotationLambdaArn;
    const invoke = this.invokeRotation;
    if (!functionArn || !invoke) return;
    const existing = secret.versions.find((v) => v.versionId === token);
    const pendingVersion = existing ?? { versionId: token, secretString: '', createdAt: Date.now(), stages: [], empty: true };
    if (!existing) secret.versions.push(pendingVersion);
    this.attachStage(secret, 'AWSPENDING', pendingVersion);
    secret.rotationBase = Date.now();
    this.schedule(secret);
    this.emitRotationEvent('RotationStarted', secret);
    this.inProgress.add(secret.arn);
    // Asynchronous, as in AWS: the answer does not wait for the steps. Outside the caller's
    // invocation, so the steps are not the calling function's work (nor its logs).
    outsideFunctionInvocations(() => void this.runRotation(secret, token, functionArn, invoke, scheduled));
  }

  /**
   * "If you don't immediately rotate the secret, Secrets Manager tests the rotation
   * configuration by running the testSecret step of the Lambda rotation function"
   * with AWSCURRENT: AWSPENDING is staged on the current version for the test
   * and removed after it.
   */
  private testRotationConfiguration(secret: SecretRecord): void {
    const current = secret.versions.find((v) => v.stages.includes('AWSCURRENT') && !v.empty);
    const functionArn = secret.rotationLambdaArn;
    const invoke = this.invokeRotation;
    if (!current || !functionArn || !invoke) return;
    this.attachStage(secret, 'AWSPENDING', current);
    const event = { Step: 'testSecret', SecretId: secret.arn, ClientRequestToken: current.versionId, RotationToken: this.context.random.uuid() };
    const record = (outcome: 'passed' | 'failed', error?: unknown): void => {
      current.stages = current.stages.filter((s) => s !== 'AWSPENDING');
      this.rotationTests.push({
        at: Date.now(),
        secret: secret.name,
        versionId: current.versionId,
        outcome,
        ...(error ? { error: `${(error as Error).name}: ${(error as Error).message}` } : {}),
      });
    };
    outsideFunctionInvocations(
      () =>
        void invoke(functionArn, event).then(
          () => record('passed'),
          (error: unknown) => record('failed', error),
        ),
    );
  }

  /** When the next scheduled rotation is due, if rotation is on and the rules name one. */
  private nextRotation(secret: SecretRecord): number | undefined {
    if (!secret.rotationEnabled) return undefined;
    return nextRotationDue(secret.rotationRules, secret.rotationBase ?? secret.lastRotatedAt ?? secret.lastChangedAt);
  }

  /** Arms the secret's next scheduled rotation on the (virtual) clock. */
  private schedule(secret: SecretRecord): void {
    clearTimeout(this.schedules.get(secret.arn));
    this.schedules.delete(secret.arn);
    const due = this.nextRotation(secret);
    if (due === undefined) return;
    const arm = (): void => {
      const wait = due - Date.now();
      // Timers cap their delay at 2^31 − 1 ms (about 24.8 days; longer fires at once): wait in steps of a day.
      const timer = wait > DAY_MS ? setTimeout(arm, DAY_MS) : setTimeout(() => this.rotateOnSchedule(secret), Math.max(0, wait));
      this.schedules.set(secret.arn, timer);
    };
    arm();
  }

  private rotateOnSchedule(secret: SecretRecord): void {
    this.schedules.delete(secret.arn);
    const blocked = this.inProgress.has(secret.arn) || secret.versions.some((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));
    if (blocked) {
      // A previous rotation isn't complete: this window is missed; the schedule goes on from now.
      secret.rotationBase = Date.now();
      this.schedule(secret);
      return;
    }
    this.startRotation(secret, this.context.random.uuid(), true);
  }

  /** Whether a rotation RotateSecret started is still running its steps. */
  rotating(id: string): boolean {
    const secret = this.secret(id);
    return secret !== undefined && this.inProgress.has(secret.arn);
  }

  private async runRotation(secret: SecretRecord, token: string, functionArn: string, invoke: RotationInvoker, scheduled: boolean): Promise<void> {
    const rotationToken = this.context.random.uuid();
    try {
      for (const step of ROTATION_STEPS) {
        await invoke(functionArn, { Step: step, SecretId: secret.arn, ClientRequestToken: token, RotationToken: rotationToken });
      }
      secret.lastRotatedAt = Date.now();
      // The next rotation counts from this one's LastRotatedDate (a failed one: from its start).
      secret.rotationBase = secret.lastRotatedAt;
      this.schedule(secret);
      this.rotations.push({ at: Date.now(), secret: secret.name, token, outcome: 'succeeded', ...(scheduled ? { scheduled } : {}) });
      this.emitRotationEvent('RotationSucceeded', secret);
    } catch (error) {
      // AWSPENDING stays on the new version: the next RotateSecret is refused until someone clears it.
      this.rotations.push({
        at: Date.now(),
        secret: secret.name,
        token,
        outcome: 'failed',
        error: `${(error as Error).name}: ${(error as Error).message}`,
        ...(scheduled ? { scheduled } : {}),
      });
      this.emitRotationEvent('RotationFailed', secret);
    } finally {
      this.inProgress.delete(secret.arn);
    }
  }

  private emitRotationEvent(eventName: RotationEventName, secret: SecretRecord): void {
    this.emitEvent?.('AWS Service Event via CloudTrail', [], rotationEventDetail(eventName, secret.arn, this.context, this.context.random.uuid()));
  }
}
