/**
 * Builders shared by the halt and resume handler tests: a halt and a resume of the
 * example fleet, an in-memory model of the SSM halt-flag parameter, the trading
 * services' running tasks and admin API, and a capture of everything a Logger writes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeTasksCommand,
  type DescribeTasksCommandInput,
  type ECSClient,
  ListTasksCommand,
  type ListTasksCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  GetParameterCommand,
  type GetParameterCommandInput,
  ParameterNotFound,
  PutParameterCommand,
  type PutParameterCommandInput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { type Mock, vi } from 'vitest';
import type { Halt } from '../../../functions/shared/domain/halt-plan';
import type { HaltFlag } from '../../../functions/shared/domain/halt-flag';
import type { HttpClient, HttpRequest, HttpResponse } from '../../../functions/shared/runtime/http';
import type { Resume } from '../../../functions/shared/domain/resume-plan';
import { readFileSync } from 'node:fs';
import type { Fleet } from '../../../lib/fleet/fleet';
import { type TestDeps, testConfig } from '../../support/handler-deps';
import { buildTask, taskDefinitionArn } from './builders';
import { principal } from '../../support/approvals';

/** examples/trading-fleet.yaml's trading services, in deploy order. */
export const TRADING_SERVICES = ['market-data', 'risk-engine', 'order-gateway'] as const;
/** examples/trading-fleet.yaml: halt.adminTokenSecret. */
export const ADMIN_TOKEN_SECRET = 'prod/trading/admin-api-token';
/** examples/trading-fleet.yaml: halt.adminApi, the CA bundle and name every admin API call verifies the task's certificate against. */
export const ADMIN_API_TLS = { ca: readFileSync('examples/certs/trading-ca.pem', 'utf8'), serverName: 'admin.trading.internal' };
/** The admin API token the secret holds: it must never leave the Authorization header. */
export const ADMIN_TOKEN = 'tok_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0';

export const HALT_ID = 'halt-20250705-c4c1c1c9';
export const HALT_EXECUTION_ID = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-halt:halt-20250705-c4c1c1c9';
export const RESUME_EXECUTION_ID = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-resume:resume-20250705-1';
export const APPROVAL_ID = 'resume-20250705-1';

/** A fleet-wide halt of the example fleet, as set-halt-flag hands it on. */
export function buildHalt(overrides: Partial<Halt> = {}): Halt {
  return {
    haltId: HALT_ID,
    reason: 'Equities desk P&L below the daily loss limit (-1m USD)',
    source: 'alarm:prod-daily-loss-limit',
    actor: 'assure',
    services: [...TRADING_SERVICES],
    alreadyHalted: false,
    flaggedAt: '2025-07-05T12:20:01.000Z',
    ...overrides,
  };
}

/** A resume of HALT_ID, as validate-resume-request hands it on. */
export function buildResume(overrides: Partial<Resume> = {}): Resume {
  return {
    haltId: HALT_ID,
    requestedBy: principal('alice@example.com'),
    reason: 'loss limit reset by risk; venue connectivity confirmed',
    services: [...TRADING_SERVICES],
    approvalId: APPROVAL_ID,
    approvalTimeoutSeconds: 1800,
    approvers: [principal('chief-risk-officer'), principal('head-of-trading')],
    ...overrides,
  };
}

export const buildApproval = (approvedBy = principal('chief-risk-officer')) => ({ approvedBy, decidedAt: '2025-07-05T13:05:00.000Z', comment: null });

/** The example fleet without its `halt` section: no admin API, no halt alarms. */
export function fleetWithoutHalt(fleet: Fleet): Fleet {
  const { halt: _halt, ...rest } = fleet;
  return rest;
}

/**
 * An in-memory model of the halt-flag parameter: GetParameter answers the stored
 * value (ParameterNotFound when none), PutParameter with Overwrite replaces it.
 */
export class FakeParameterStore {
  value: string | undefined;

  constructor(
    readonly ssm: AwsClientStub<SSMClient>,
    initial?: HaltFlag | string,
  ) {
    this.value = typeof initial === 'object' ? JSON.stringify(initial) : initial;
    ssm.on(GetParameterCommand).callsFake((input: GetParameterCommandInput) => {
      if (input.Name !== testConfig.haltParameterName || this.value === undefined) {
        throw new ParameterNotFound({ message: `Parameter ${input.Name ?? ''} not found.`, $metadata: {} });
      }
      return { Parameter: { Name: input.Name, Type: 'String', Value: this.value, Version: 1 } };
    });
    ssm.on(PutParameterCommand).callsFake((input: PutParameterCommandInput) => {
      if (input.Name !== testConfig.haltParameterName) throw new Error(`unexpected parameter ${input.Name ?? ''}`);
      this.value = input.Value;
      return { Version: 2, Tier: 'Standard' };
    });
  }

  /** The stored flag, parsed; undefined when the parameter was never written. */
  flag(): Record<string, unknown> | undefined {
    return this.value === undefined ? undefined : (JSON.parse(this.value) as Record<string, unknown>);
  }
}

/** The running tasks of the example fleet's trading services, by ECS service name: 3 + 3 + 4. */
export function tradingTasks(): Record<string, Task[]> {
  const tasks = (service: string, subnet: number, count: number): Task[] =>
    Array.from({ length: count }, (_, i) => buildTask(`${service}-${i + 1}`, `10.0.${subnet}.${i + 11}`, { taskDefinitionArn: taskDefinitionArn(7, service) }));
  return { 'market-data': tasks('market-data', 2, 3), 'risk-engine': tasks('risk-engine', 3, 3), 'order-gateway': tasks('order-gateway', 4, 4) };
}

/** The private IP buildTask gave a task. */
export const ipOf = (task: Task): string => task.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value ?? 'none';

/** Stubs ListTasks (two pages per service, to exercise pagination) and DescribeTasks from `tasks` (read at call time). */
export function stubServiceTasks(ecs: AwsClientStub<ECSClient>, tasks: Record<string, Task[]>): void {
  ecs.on(ListTasksCommand).callsFake((input: ListTasksCommandInput) => {
    if (input.cluster !== 'trading-prod') throw new Error(`unexpected cluster ${input.cluster ?? ''}`);
    const arns = input.desiredStatus === 'RUNNING' ? (tasks[input.serviceName ?? ''] ?? []).map((t) => t.taskArn ?? '') : [];
    // The first page holds two tasks; the rest come after its nextToken.
    return input.nextToken === undefined && arns.length > 2
      ? { taskArns: arns.slice(0, 2), nextToken: 'page-2' }
      : { taskArns: input.nextToken ? arns.slice(2) : arns };
  });
  ecs.on(DescribeTasksCommand).callsFake((input: DescribeTasksCommandInput) => ({
    tasks: Object.values(tasks)
      .flat()
      .filter((t) => input.tasks?.includes(t.taskArn ?? '')),
  }));
}

/** Stubs Secrets Manager to hold the admin API token under the fleet's secret name. */
export function stubAdminToken(deps: TestDeps, token = ADMIN_TOKEN, previous?: string): AwsClientStub<SecretsManagerClient> {
  const secrets = mockClient(deps.clients.secretsManager);
  secrets.on(GetSecretValueCommand, { SecretId: ADMIN_TOKEN_SECRET }).resolves({ Name: ADMIN_TOKEN_SECRET, SecretString: token, VersionId: 'v2' });
  // As Secrets Manager answers for a secret never rotated: no version holds AWSPREVIOUS.
  const noPrevious = Object.assign(new Error("Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS"), {
    name: 'ResourceNotFoundException',
  });
  const previousStage = secrets.on(GetSecretValueCommand, { SecretId: ADMIN_TOKEN_SECRET, VersionStage: 'AWSPREVIOUS' });
  if (previous === undefined) previousStage.rejects(noPrevious);
  else previousStage.resolves({ Name: ADMIN_TOKEN_SECRET, SecretString: previous, VersionId: 'v1' });
  return secrets;
}

/** The admin API requests made through deps.http, by task IP. */
export function requestsTo(deps: TestDeps, ip: string): HttpRequest[] {
  return allRequests(deps).filter((request) => new URL(request.url).hostname === ip);
}

/** Every request made through deps.http, in order. */
export function allRequests(deps: TestDeps): HttpRequest[] {
  return (deps.http as Mock<HttpClient>).mock.calls.map(([request]) => request);
}

/** Routes deps.http by task IP: `answers` overrides the default answer for an IP (an Error: unreachable). */
export function stubAdminApi(
  deps: TestDeps,
  defaultAnswer: (request: HttpRequest) => HttpResponse,
  answers: Map<string, HttpResponse | Error> = new Map(),
): void {
  (deps.http as Mock<HttpClient>).mockImplementation(async (request) => {
    const answer = answers.get(new URL(request.url).hostname) ?? defaultAnswer(request);
    if (answer instanceof Error) throw answer;
    return answer;
  });
}

/**
 * Captures everything written to stdout and stderr (where the Powertools Logger
 * writes) and returns a Logger at DEBUG, so a test can look for secrets in the logs.
 */
export function captureLogs(): { readonly logger: Logger; text(): string; restore(): void } {
  const chunks: string[] = [];
  const capture = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const logger = new Logger({ serviceName: 'assure-test', logLevel: 'DEBUG' });
  return {
    logger,
    text: () => chunks.join(''),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}
