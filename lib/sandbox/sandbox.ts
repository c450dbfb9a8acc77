/**
 * The sandbox: a simulated AWS account, in-process, built from the fleet file.
 * It runs the real ASL files in the ASL interpreter and the real handlers as
 * Lambda functions, their SDK clients routed to simulated ECS, CloudWatch,
 * EventBridge, DynamoDB, SSM and Step Functions. Time is virtual.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { AssureConfig } from '../../functions/shared/runtime/config';
import { createAwsClients, type AwsClients, type ClientName } from '../../functions/shared/runtime/clients';
import { createHandler } from '../../functions/shared/runtime/handler';
import type { Fleet } from '../fleet/fleet';
import { type AccountContext, assureConfig, pagingTopicName } from '../naming';
import { TABLE_LAYOUTS, createTableInput, tableNames } from '../tables';
import { substitute } from '../workflows/asl';
import { provisioningPlan } from '../workflows/provisioning';
import { ALL_SPECS } from '../workflows/registry';
import { AUDIT_STREAM_MAPPING, auditArchive, auditArchiveRetention } from '../workflows/audit-archive';
import { scaleSchedules } from '../workflows/scale-workflow';
import type { AnyHandlerDefinition, ResourceGroupSpec } from '../workflows/workflow-spec';
import { ALL_CLIENT_CLASSES } from './all-clients';
import { SimulatedAwsError } from './aws-error';
import { SeededRandom, seedMathRandom } from './deterministic';
import { IamAuthorizer } from './iam/authorizer';
import { loadPolicySet } from './iam/policy-cache';
import type { PolicySet } from './iam/template-policies';
import { type SimulatedAccount, simulatedAccount } from './simulated-account';
import { fleetTraffic, publishTelemetry, seedFleet, trafficView, type FleetWorld, watchTraffic } from './fleet-world';
import { TargetGroupMetrics } from './target-group-metrics';
import type { AppState } from './simulated-applications';
import type { CloudWatchSnapshot } from './simulated-cloudwatch';
import type { TableSnapshot } from './simulated-dynamodb';
import type { StreamEventRecord } from './simulated-lambda';
import type { BucketSnapshot } from './simulated-s3';
import type { EcsSnapshot, ServiceTraffic } from './simulated-ecs';
import type { CredentialAccountState } from './simulated-credential-api';
import type { SecretRecord } from './simulated-secrets-manager';
import type { ParameterRecord } from './simulated-ssm';
import type { EventDeliveryOptions } from './simulated-eventbridge';
import type { EcrPush } from './simulated-ecr';
import type { ExecutionRecord, PausedExecution } from './simulated-step-functions';
import type { ImageBehaviour } from './simulated-workloads';
import type { FunctionUrlResponse } from './simulated-lambda';
import { VirtualClock } from './virtual-clock';

/** Monday 5 January 2026, 05:20 UTC: before the London open, inside the example fleet's deploy window. */
export const DEFAULT_SANDBOX_START = Date.parse('2026-01-05T05:20:00Z');
/** Alarms and metrics settle before the first command runs. */
const WARM_UP_MS = 10 * 60_000;
const TELEMETRY_INTERVAL_MS = 10_000;
const SNAPSHOT_VERSION = 4;
export const SANDBOX_ACCOUNT = '111122223333';
export const SANDBOX_REGION = 'eu-west-2';

export interface SandboxOptions {
  readonly fleet: Fleet;
  /** Where the sandbox keeps its state between CLI invocations; none keeps it in memory only. */
  readonly stateDirectory?: string;
  readonly startAt?: number;
  readonly seed?: number;
  /**
   * Whether every call a role makes is authorized against the synthesized stack's IAM policies.
   * @default 'enforce' (or `ASSURE_SANDBOX_IAM=off` in the environment)
   */
  readonly iam?: 'enforce' | 'off';
  /** Changes the synthesized policies before they are enforced (a test removes a grant to show what needs it). */
  readonly editPolicies?: (policies: PolicySet) => PolicySet;
  /** How EventBridge delivers to rule targets; by default once, in order, after 500 ms. */
  readonly eventDelivery?: EventDeliveryOptions;
}

export interface HandlerFunctionOptions {
  /** Run with the role of this function of the stack (for a function the stack does not define, e.g. a benchmark's). @default the function's own */
  readonly roleOf?: string;
}

interface SandboxSnapshot {
  readonly version: number;
  readonly fleetDigest: string;
  readonly now: number;
  readonly randomState: number;
  readonly ecs: EcsSnapshot;
  readonly cloudwatch: CloudWatchSnapshot;
  readonly ssm: ParameterRecord[];
  readonly tables: TableSnapshot[];
  readonly executions: ExecutionRecord[];
  /** Executions waiting on a task token (a resume awaiting approval) go on in the next session. */
  readonly pausedExecutions: PausedExecution[];
  readonly images: [string, ImageBehaviour][];
  readonly secrets: SecretRecord[];
  readonly applications: AppState[];
  /** The downstream credential APIs' passwords (absent in older snapshots: seeded from the secrets then). */
  readonly credentials?: CredentialAccountState[];
  /** S3 buckets and their object versions (absent in older snapshots: the buckets start empty then). */
  readonly buckets?: BucketSnapshot[];
  /** Table stream records not yet delivered to their event source mappings. */
  readonly streamRecords?: StreamEventRecord[];
}

export class SandboxStateError extends Error {
  override readonly name = 'SandboxStateError';
}

/** The simulated services are the sandbox's own fields (`sandbox.ecs`, `sandbox.sns`, ...), assigned once in the constructor. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- Object.assign in the constructor sets every field of SimulatedAccount
export interface Sandbox extends SimulatedAccount {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Sandbox {
  readonly context: AccountContext;
  readonly config: AssureConfig;
  readonly clock: VirtualClock;
  readonly random: SeededRandom;
  /** State machine ARNs by workflow name. */
  readonly stateMachines: Record<string, string> = {};
  /** Function ARNs by workflow, then by the spec's key (e.g. `RunHealthGate`). */
  readonly functionArns: Record<string, Record<string, string>> = {};
  private readonly restoreRandom: () => void;
  private telemetryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The load balancer's per-target-group metrics of the services that shift traffic between revisions. */
  private readonly targetGroupMetrics: TargetGroupMetrics;

  private constructor(
    readonly fleet: Fleet,
    readonly stateDirectory: string | undefined,
    startAt: number,
    seed: number,
    /** IAM as the synthesized stack defines it; absent when enforcement is off. */
    readonly iam: IamAuthorizer | undefined,
    eventDelivery?: EventDeliveryOptions,
  ) {
    this.context = accountOf(fleet);
    this.config = assureConfig(fleet, this.context);
    this.clock = VirtualClock.install(startAt);
    this.random = new SeededRandom(seed);
    this.restoreRandom = seedMathRandom(this.random);
    Object.assign(
      this,
      simulatedAccount({
        fleet,
        context: this.context,
        clock: this.clock,
        random: this.random,
        haltParameterName: this.config.haltParameterName,
        eventDelivery,
      }),
    );
    if (iam) this.transport.enforce({ authorizer: iam, lookups: this.resourceLookups });
    this.targetGroupMetrics = new TargetGroupMetrics({
      fleet,
      view: trafficView(this.world),
      cloudwatch: this.cloudwatch,
      behaviourOf: (image) => this.images.behaviourOf(image),
      seed,
    });
  }

  /** The synthesized stack's policies (cached), before the virtual clock takes over. */
  private static async authorizer(options: SandboxOptions): Promise<IamAuthorizer | undefined> {
    const mode = options.iam ?? (process.env.ASSURE_SANDBOX_IAM === 'off' ? 'off' : 'enforce');
    if (mode === 'off') return undefined;
    const policies = await loadPolicySet(options.fleet, accountOf(options.fleet));
    return IamAuthorizer.create(options.editPolicies ? options.editPolicies(structuredClone(policies)) : policies);
  }

  /** A fresh sandbox, or the one saved in `stateDirectory` if there is one. */
  static async open(options: SandboxOptions): Promise<Sandbox> {
    const file = options.stateDirectory ? join(options.stateDirectory, 'sandbox.json') : undefined;
    if (file && existsSync(file)) {
      const snapshot = JSON.parse(readFileSync(file, 'utf8')) as SandboxSnapshot;
      if (snapshot.version !== SNAPSHOT_VERSION) {
        throw new SandboxStateError(`${file} was written by another version of Assure; run \`assure sandbox reset\``);
      }
      if (snapshot.fleetDigest !== fleetDigest(options.fleet)) {
        throw new SandboxStateError(`${file} belongs to a different fleet file; run \`assure sandbox reset\` to start again with this one`);
      }
      const sandbox = new Sandbox(
        options.fleet,
        options.stateDirectory,
        snapshot.now,
        snapshot.randomState,
        await Sandbox.authorizer(options),
        options.eventDelivery,
      );
      await sandbox.settingUp(async () => {
        await sandbox.wire();
        await sandbox.restore(snapshot);
      });
      return sandbox;
    }
    const iam = await Sandbox.authorizer(options);
    const sandbox = new Sandbox(
      options.fleet,
      options.stateDirectory,
      options.startAt ?? DEFAULT_SANDBOX_START,
      options.seed ?? 20260105,
      iam,
      options.eventDelivery,
    );
    await sandbox.settingUp(async () => {
      await sandbox.wire();
      await sandbox.seed();
    });
    return sandbox;
  }

  /** A sandbox that cannot be built (AWS refused a resource) gives the clock and the random back before the error goes on. */
  private async settingUp(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  static reset(stateDirectory: string): void {
    rmSync(join(stateDirectory, 'sandbox.json'), { force: true });
  }

  /** Builds the account's Assure resources: tables, halt flag, functions, state machines, rules. */
  private async wire(): Promise<void> {
    for (const [key, name] of tableNames(this.config)) {
      await this.dynamodb.handle('CreateTable', createTableInput(name, TABLE_LAYOUTS[key]));
    }
    // A new table turns ACTIVE on a timer; let it fire before anything writes.
    await this.clock.advance(0);
    const topic = this.sns.createTopic(pagingTopicName(this.fleet.environment));
    for (const email of this.fleet.paging.emails) this.sns.subscribe(topic, 'email', email);
    // Customer managed keys, with the ids and aliases the stack gives them (a default key for the approval tokens without IAM).
    const keys = this.iam?.policies.keys ?? { [`alias/assure-${this.fleet.environment}-approval-tokens`]: 'approval-tokens' };
    for (const [alias, keyArn] of Object.entries(keys)) this.kms.createKey(keyArn.split('/').pop() ?? keyArn, alias);
    for (const spec of ALL_SPECS) this.provisionWorkflow(spec);
    await this.provisionAuditArchive();
    for (const s of scaleSchedules(this.fleet)) {
      this.scheduler.createSchedule({
        name: s.name,
        scheduleExpression: s.scheduleExpression,
        timeZone: s.timeZone,
        targetArn: this.stateMachines.scale ?? '',
        input: JSON.stringify(s.input),
      });
    }
  }

  /** Creates a workflow's or event route's functions, state machine and rules, as the CDK stack does (provisioning.ts). */
  private provisionWorkflow(spec: ResourceGroupSpec): void {
    const plan = provisioningPlan(spec, this.fleet, this.context, this.config);
    const arns: Record<string, string> = {};
    for (const planned of plan.functions) arns[planned.key] = this.createHandlerFunction(planned.definition, planned.functionName);
    this.functionArns[spec.name] = arns;
    const functionArn = (key: string): string => arns[key] ?? '';
    if (plan.stateMachine) {
      const definition = JSON.parse(substitute(plan.stateMachine.definition, plan.stateMachine.substitutions(functionArn))) as StateMachineDefinition;
      // With the role the stack gives it (the one its Lambda invokes and SNS publishes are authorized as).
      this.stateMachines[spec.name] = this.stepFunctions.createStateMachine(
        plan.stateMachine.name,
        definition,
        this.iam?.policies.stateMachines[plan.stateMachine.name]?.roleArn,
      );
    }
    for (const rule of plan.rules) this.eventBridge.putRule(rule.name, rule.pattern, [{ id: rule.target, arn: functionArn(rule.target) }]);
  }

  /** The audit archive as the stack builds it (lib/constructs/audit-archive.ts): the Object Lock bucket, and the audit stream's mapping to its archiver. */
  private async provisionAuditArchive(): Promise<void> {
    const bucket = this.config.auditArchiveBucketName;
    const retention = auditArchiveRetention(this.fleet);
    await this.s3.handle('CreateBucket', { Bucket: bucket, ObjectLockEnabledForBucket: true });
    await this.s3.handle('PutObjectLockConfiguration', {
      Bucket: bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: retention.mode, Days: retention.days } } },
    });
    const keyId = createHash('sha256').update(bucket).digest('hex');
    await this.s3.handle('PutBucketEncryption', {
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: `arn:aws:kms:${this.context.region}:${this.context.account}:key/${keyId.slice(0, 8)}-${keyId.slice(8, 12)}-${keyId.slice(12, 16)}-${keyId.slice(16, 20)}-${keyId.slice(20, 32)}`,
            },
          },
        ],
      },
    });
    const streamArn = this.dynamodb.latestStreamArn(this.config[AUDIT_STREAM_MAPPING.table]);
    const archiver = this.functionArns[auditArchive.name]?.[AUDIT_STREAM_MAPPING.function];
    if (!streamArn || !archiver) throw new Error('The audit table has no stream, or the audit archive no archiver: the archive would stay empty');
    this.authorizeStreamRead(archiver, streamArn);
    this.lambda.createEventSourceMapping({
      eventSourceArn: streamArn,
      functionName: archiver,
      batchSize: AUDIT_STREAM_MAPPING.batchSize,
      maximumRetryAttempts: AUDIT_STREAM_MAPPING.retryAttempts,
      bisectBatchOnFunctionError: AUDIT_STREAM_MAPPING.bisectBatchOnError,
    });
  }

  /** Lambda refuses a stream mapping whose function's role cannot read the stream, in these words. */
  private authorizeStreamRead(functionArn: string, streamArn: string): void {
    const session = this.iam?.functionSession(functionArn.split(':').pop() ?? functionArn);
    if (!this.iam || !session) return;
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']) {
      if (this.iam.decideForRole(session, action, streamArn) !== 'Allow') {
        throw new SimulatedAwsError(
          'InvalidParameterValueException',
          `Cannot access stream ${streamArn}. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.`,
        );
      }
    }
  }

  /** Deploys a handler as a Lambda function of this account, its SDK clients acting as the function's role. */
  createHandlerFunction(definition: AnyHandlerDefinition, name: string, options: HandlerFunctionOptions = {}): string {
    return this.lambda.createFunction({
      functionName: name,
      handler: createHandler(definition, {
        clients: this.functionClients(definition, options.roleOf ?? name),
        config: this.config,
        fleet: this.fleet,
        http: this.http,
        logger: new Logger({ serviceName: 'assure', persistentKeys: { function: definition.name, environment: this.fleet.environment } }),
      }),
      timeoutSeconds: definition.timeoutSeconds ?? 30,
    });
  }

  /** The clients a function's code gets: only those it declares, each request tagged with the function's role session. */
  private functionClients(definition: AnyHandlerDefinition, roleOf: string): AwsClients {
    if (!this.iam) return this.clients;
    const session = this.iam.functionSession(roleOf);
    if (!session) throw new Error(`${roleOf} is not a function of the synthesized stack, so it has no role to run with`);
    const classes = Object.fromEntries((definition.clients as readonly ClientName[]).map((name) => [name, ALL_CLIENT_CLASSES[name]]));
    // Only the declared clients exist, as in the function's bundle.
    return createAwsClients(classes as typeof ALL_CLIENT_CLASSES, {
      region: this.context.region,
      credentials: { accessKeyId: 'SANDBOX', secretAccessKey: 'SANDBOX' },
      plugins: [this.transport.plugin(session)],
    });
  }

  private get world(): FleetWorld {
    return this;
  }

  /** The fleet as it runs before Assure's first action (see fleet-world.ts), then ten quiet minutes. */
  private async seed(): Promise<void> {
    seedFleet(this.world);
    this.seedCredentialApi();
    await this.attachRotationFunction();
    await this.ssm.handle('PutParameter', { Name: this.config.haltParameterName, Value: JSON.stringify({ halted: false }), Type: 'String' });
    this.startBackgroundActivity();
    await this.clock.advance(WARM_UP_MS);
  }

  /** Each managed secret rotates with the rotate-secret workflow's rotation function, every `rotationDays`, as CDK's RotationSchedule sets it up (without rotating now). */
  private async attachRotationFunction(): Promise<void> {
    const rotationFunction = this.functionArns['rotate-secret']?.RotateSecretValue;
    if (!rotationFunction) return;
    for (const secret of Object.values(this.fleet.secrets)) {
      await this.secretsManager.handle('RotateSecret', {
        SecretId: secret.name,
        RotationLambdaARN: rotationFunction,
        RotationRules: { AutomaticallyAfterDays: secret.rotationDays },
        RotateImmediately: false,
      });
    }
  }

  private async restore(snapshot: SandboxSnapshot): Promise<void> {
    snapshot.images.forEach(([image, behaviour]) => this.images.set(image, behaviour));
    this.secretsManager.restore(snapshot.secrets);
    if (snapshot.credentials) this.credentialApi.restore(snapshot.credentials);
    else this.seedCredentialApi();
    this.applications.restore(snapshot.applications);
    this.ecs.restore(snapshot.ecs);
    this.cloudwatch.restore(snapshot.cloudwatch);
    this.ssm.restore(snapshot.ssm);
    // Tables already exist (wire); put the items back.
    for (const table of snapshot.tables) await this.dynamodb.restoreItems(String(table.definition.TableName), table.items);
    if (snapshot.buckets) this.s3.restore(snapshot.buckets);
    // Each session creates the tables anew, so a stream's label (its creation time) changes: the saved records go on the same table's stream.
    for (const record of snapshot.streamRecords ?? []) {
      const table = record.eventSourceARN.split(':table/')[1]?.split('/stream/')[0] ?? '';
      const streamArn = this.dynamodb.latestStreamArn(table);
      if (streamArn) this.lambda.streamRecord({ ...record, eventSourceARN: streamArn });
    }
    this.stepFunctions.restoreExecutions(snapshot.executions);
    this.stepFunctions.restorePausedExecutions(snapshot.pausedExecutions);
    this.startBackgroundActivity();
  }

  private startBackgroundActivity(): void {
    this.cloudwatch.start();
    this.scheduler.start();
    const publish = (): void => {
      const now = Date.now();
      const next = Math.floor(now / TELEMETRY_INTERVAL_MS) * TELEMETRY_INTERVAL_MS + TELEMETRY_INTERVAL_MS;
      this.telemetryTimer = setTimeout(() => {
        this.publishTelemetry();
        publish();
      }, next - now);
    };
    publish();
  }

  private publishTelemetry(): void {
    publishTelemetry(this.world);
    this.targetGroupMetrics.advance();
  }

  /** Downstream accounts start with their secret's first value. */
  private seedCredentialApi(): void {
    this.credentialApi.seed((name) => this.secretsManager.versionWithStage(name)?.secretString);
  }

  /** Starts the deploy workflow as StartExecution would. */
  async startExecution(workflow: string, input: unknown, name?: string): Promise<string> {
    const arn = this.stateMachines[workflow];
    if (!arn) throw new Error(`No ${workflow} workflow in this sandbox`);
    const { executionArn } = this.stepFunctions.startExecution(arn, JSON.stringify(input), name);
    await this.clock.settle();
    return executionArn;
  }

  /** Runs virtual time until the execution closes; returns its record. */
  async runExecution(executionArn: string, maxVirtualMs = 12 * 3600_000): Promise<ExecutionRecord> {
    const record = this.stepFunctions.execution(executionArn);
    if (!record) throw new Error(`No execution ${executionArn}`);
    const outcome = await this.clock.runUntil(() => record.status !== 'RUNNING', maxVirtualMs);
    if (outcome !== 'done') throw new Error(`Execution ${executionArn} did not finish within ${maxVirtualMs / 60_000} virtual minutes (${outcome})`);
    return this.stepFunctions.whenClosed(executionArn);
  }

  /** Runs virtual time until `work` settles (an invocation, an API call that waits); its result. */
  async complete<T>(work: Promise<T>, maxVirtualMs = 15 * 60_000): Promise<T> {
    let finished = false;
    const settled = work.finally(() => {
      finished = true;
    });
    settled.catch(() => undefined);
    const outcome = await this.clock.runUntil(() => finished, maxVirtualMs);
    if (outcome !== 'done') throw new Error(`Work did not finish within ${maxVirtualMs / 60_000} virtual minutes (${outcome})`);
    return settled;
  }

  /** Invokes one of a workflow's functions as `aws lambda invoke` would (RequestResponse). */
  async invokeFunction(workflow: string, key: string, payload: unknown): Promise<unknown> {
    const arn = this.functionArns[workflow]?.[key];
    if (!arn) throw new Error(`No function ${key} in the ${workflow} workflow`);
    return this.complete(this.lambda.invoke(arn, payload));
  }

  /**
   * Calls a workflow's function through its function URL (AWS_IAM auth) as
   * `callerArn`, as a SigV4-signed POST would: Lambda answers 403 unless the
   * function's resource-based policy lets that principal call the URL and invoke
   * the function through it (without IAM enforcement every caller is let through).
   */
  async invokeFunctionUrl(workflow: string, key: string, callerArn: string, body: unknown): Promise<FunctionUrlResponse> {
    const arn = this.functionArns[workflow]?.[key];
    if (!arn) throw new Error(`No function ${key} in the ${workflow} workflow`);
    const decision = this.iam?.functionUrlDecision(callerArn, arn.split(':').pop() ?? arn) ?? 'Allow';
    const json = { 'content-type': 'application/json' };
    if (decision === 'NoUrl') return { statusCode: 404, headers: json, body: JSON.stringify({ Message: 'Not Found' }) };
    if (decision !== 'Allow') return { statusCode: 403, headers: json, body: JSON.stringify({ Message: 'Forbidden' }) };
    return this.complete(this.lambda.invokeUrl(arn, { callerArn, method: 'POST', body: JSON.stringify(body) }));
  }

  /**
   * Pushes an image to one of the fleet's ECR repositories (`name:tag` or `<repository URI>:tag`), as a
   * pipeline would: a new digest (or `digest`'s image tagged again), the `ECR Image Action` event on the
   * bus, and the image `<repositoryUri>@<digest>` behaving as `behaviour` says (healthy when not given).
   */
  push(ref: string, options: { readonly behaviour?: ImageBehaviour; readonly digest?: string } = {}): EcrPush {
    const pushed = this.ecr.push(ref, options.digest === undefined ? {} : { digest: options.digest });
    if (options.behaviour) this.images.set(pushed.image, options.behaviour);
    return pushed;
  }

  /** Lets ECS finish whatever it is doing (draining, rollouts), up to a limit. */
  async settleEcs(maxVirtualMs = 30 * 60_000): Promise<void> {
    await this.clock.runUntil(() => !this.ecs.isBusy(), maxVirtualMs);
  }

  /** Each revision of a fleet service and its share of production and test traffic now (blue/green, canary, linear: the listener rules' weights). */
  traffic(serviceId: string): ServiceTraffic {
    return fleetTraffic(this.world, serviceId);
  }

  /** Calls `listener` on every change of a fleet service's traffic weights, as ECS shifts them; returns the unsubscribe. */
  onTrafficChange(listener: (serviceId: string, traffic: ServiceTraffic) => void): () => void {
    return watchTraffic(this.world, listener);
  }

  async save(): Promise<void> {
    if (!this.stateDirectory) return;
    const snapshot: SandboxSnapshot = {
      version: SNAPSHOT_VERSION,
      fleetDigest: fleetDigest(this.fleet),
      now: this.clock.now(),
      randomState: this.random.seed,
      ecs: this.ecs.snapshot(),
      cloudwatch: this.cloudwatch.snapshot(),
      ssm: this.ssm.snapshot(),
      tables: await this.dynamodb.snapshot(),
      executions: this.stepFunctions.listExecutionRecords().filter((e) => e.status !== 'RUNNING'),
      pausedExecutions: this.stepFunctions.pausedExecutions(),
      images: this.images.entries(),
      secrets: this.secretsManager.snapshot(),
      applications: this.applications.snapshot(),
      credentials: this.credentialApi.snapshot(),
      buckets: this.s3.snapshot(),
      streamRecords: this.lambda.undeliveredStreamRecords(),
    };
    mkdirSync(this.stateDirectory, { recursive: true });
    const file = join(this.stateDirectory, 'sandbox.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
    renameSync(`${file}.tmp`, file);
  }

  dispose(): void {
    clearTimeout(this.telemetryTimer);
    this.scheduler.stop();
    this.cloudwatch.stop();
    this.secretsManager.stop();
    this.ecs.dispose();
    this.lambda.dispose();
    this.restoreRandom();
    this.clock.uninstall();
  }
}

function accountOf(fleet: Fleet): AccountContext {
  return { account: fleet.account ?? SANDBOX_ACCOUNT, region: fleet.region ?? SANDBOX_REGION };
}

function fleetDigest(fleet: Fleet): string {
  return createHash('sha256').update(JSON.stringify(fleet)).digest('hex').slice(0, 16);
}
