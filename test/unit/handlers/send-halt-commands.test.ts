import { inspect, format } from 'node:util';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sendHaltCommands } from '../../../functions/send-halt-commands/core';
import { AdminToken } from '../../../functions/shared/domain/admin-api';
import { createHandler } from '../../../functions/shared/runtime/handler';
import type { Halt } from '../../../functions/shared/domain/halt-plan';
import type { HttpResponse } from '../../../functions/shared/runtime/http';
import { lambdaContext, type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, buildTask } from './builders';
import {
  ADMIN_API_TLS,
  ADMIN_TOKEN,
  ADMIN_TOKEN_SECRET,
  allRequests,
  buildHalt,
  captureLogs,
  fleetWithoutHalt,
  HALT_EXECUTION_ID,
  ipOf,
  requestsTo,
  stubAdminApi,
  stubAdminToken,
  stubServiceTasks,
  tradingTasks,
} from './halt-builders';

const ACCEPTED: HttpResponse = { status: 202, body: '{"halted":true,"haltId":"halt-20250705-c4c1c1c9"}' };

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;
let secrets: AwsClientStub<SecretsManagerClient>;
let tasks: Record<string, Task[]>;
let answers: Map<string, HttpResponse | Error>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2025-07-05T12:20:02.000Z'));
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  ecs = mockClient(deps.clients.ecs);
  tasks = tradingTasks();
  stubServiceTasks(ecs, tasks);
  secrets = stubAdminToken(deps);
  answers = new Map();
  stubAdminApi(deps, () => ACCEPTED, answers);
});

afterEach(() => {
  vi.useRealTimers();
});

const send = (halt: Halt = buildHalt()) => sendHaltCommands.core({ executionId: HALT_EXECUTION_ID, halt }, deps);

/** Everything the handler wrote to DynamoDB, as text. */
const dynamoWrites = (): string => JSON.stringify(ddb.calls().map((call) => call.args[0].input));

describe('send-halt-commands', () => {
  it('posts /admin/halt to every running task of every halted trading service', async () => {
    const result = await send();

    expect(result).toEqual({
      sent: true,
      why: '',
      services: [
        { service: 'market-data', tasks: 3, acknowledged: 3, failures: [] },
        { service: 'risk-engine', tasks: 3, acknowledged: 3, failures: [] },
        { service: 'order-gateway', tasks: 4, acknowledged: 4, failures: [] },
      ],
    });
    expect(deps.http).toHaveBeenCalledTimes(10);
    for (const task of Object.values(tasks).flat()) expect(requestsTo(deps, ipOf(task))).toHaveLength(1);
  });

  it("sends the halt id and reason with the bearer token, on each service's admin port", async () => {
    await send();

    // order-gateway's admin API listens on 8081 (halt.adminPort); the others on 8443 (https's default), each verified against the fleet's CA bundle.
    expect(requestsTo(deps, '10.0.4.11')).toEqual([
      {
        method: 'POST',
        url: 'https://10.0.4.11:8081/admin/halt',
        tls: ADMIN_API_TLS,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: buildHalt().reason, haltId: buildHalt().haltId }),
        timeoutMs: 3000,
      },
    ]);
    expect(requestsTo(deps, '10.0.2.11')[0]?.url).toBe('https://10.0.2.11:8443/admin/halt');
    expect(requestsTo(deps, '10.0.3.13')[0]?.url).toBe('https://10.0.3.13:8443/admin/halt');
  });

  it('reads the token once, from the secret the fleet file names, and not its previous value while every task accepts it', async () => {
    await send();

    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ADMIN_TOKEN_SECRET });
    expect(secrets).not.toHaveReceivedCommandWith(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' });
  });

  it('halts a task that still expects the token from before a rotation, with the previous value', async () => {
    const PREVIOUS_TOKEN = 'tok_live_previous_0a1b2c3d4e5f60718293a4b5c6d7e8f9';
    secrets = stubAdminToken(deps, ADMIN_TOKEN, PREVIOUS_TOKEN);
    // 10.0.4.11 started before the rotation: it knows only the previous token.
    stubAdminApi(deps, (request) =>
      new URL(request.url).hostname === '10.0.4.11' && request.headers?.authorization !== `Bearer ${PREVIOUS_TOKEN}`
        ? { status: 401, body: '{"error":"unauthorized"}' }
        : ACCEPTED,
    );

    const result = await send();

    expect(requestsTo(deps, '10.0.4.11').map((r) => r.headers?.authorization)).toEqual([`Bearer ${ADMIN_TOKEN}`, `Bearer ${PREVIOUS_TOKEN}`]);
    // The previous value is read once, however many tasks refuse the current one.
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ADMIN_TOKEN_SECRET, VersionStage: 'AWSPREVIOUS' });
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(result.services.every((s) => s.failures.length === 0)).toBe(true);
    expect(JSON.stringify(result)).not.toContain(PREVIOUS_TOKEN);
  });

  it('asks ECS for every page of running tasks of each service in the fleet cluster', async () => {
    await send();

    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, { cluster: 'trading-prod', serviceName: 'order-gateway', desiredStatus: 'RUNNING' });
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: 'trading-prod',
      serviceName: 'order-gateway',
      desiredStatus: 'RUNNING',
      nextToken: 'page-2',
    });
    // Three services, each listed over two pages.
    expect(ecs).toHaveReceivedCommandTimes(ListTasksCommand, 6);
  });

  it('only commands the services the halt names', async () => {
    const result = await send(buildHalt({ services: ['order-gateway'] }));

    expect(result.services).toEqual([{ service: 'order-gateway', tasks: 4, acknowledged: 4, failures: [] }]);
    expect(allRequests(deps).every((r) => new URL(r.url).hostname.startsWith('10.0.4.'))).toBe(true);
    expect(ecs).not.toHaveReceivedCommandWith(ListTasksCommand, { serviceName: 'market-data' });
  });

  it('accepts 200 as well as 202', async () => {
    answers.set('10.0.3.12', { status: 200, body: '{"halted":true}' });

    const result = await send();

    expect(result.services[1]).toEqual({ service: 'risk-engine', tasks: 3, acknowledged: 3, failures: [] });
  });

  it('reports every task that did not acknowledge, by task, IP, status and answer', async () => {
    answers.set('10.0.2.12', { status: 500, body: 'FIX session to LSE down' });
    answers.set('10.0.4.13', Object.assign(new Error('connect ETIMEDOUT 10.0.4.13:8081'), { name: 'TimeoutError' }));
    answers.set('10.0.4.14', { status: 401, body: '{"error":"unauthorized"}' });

    const result = await send();

    expect(result.services).toEqual([
      { service: 'market-data', tasks: 3, acknowledged: 2, failures: ['market-data-2 (10.0.2.12): 500 FIX session to LSE down'] },
      { service: 'risk-engine', tasks: 3, acknowledged: 3, failures: [] },
      {
        service: 'order-gateway',
        tasks: 4,
        acknowledged: 2,
        failures: ['order-gateway-3 (10.0.4.13): unreachable connect ETIMEDOUT 10.0.4.13:8081', 'order-gateway-4 (10.0.4.14): 401 {"error":"unauthorized"}'],
      },
    ]);
  });

  it('names the fleet settings a refused certificate was checked against', async () => {
    answers.set('10.0.4.13', Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }));

    const result = await send();

    expect(result.services[2]?.failures).toEqual([
      'order-gateway-3 (10.0.4.13): unreachable TLS certificate refused (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate); checked against halt.adminApi.caBundle and serverName',
    ]);
  });

  it('calls over plain HTTP, with no CA bundle, only when the fleet allows it inside the VPC', async () => {
    const halt = deps.fleet.halt;
    if (!halt) throw new Error('the example fleet has halt settings');
    const services = Object.fromEntries(
      Object.entries(deps.fleet.services).map(([id, s]) => [id, s.halt && id !== 'order-gateway' ? { ...s, halt: { ...s.halt, adminPort: 8080 } } : s]),
    );
    deps = { ...deps, fleet: { ...deps.fleet, services, halt: { ...halt, adminApi: { scheme: 'http', allowPlainHttpInVpc: true } } } };

    await send();

    expect(requestsTo(deps, '10.0.4.11')[0]).toMatchObject({ url: 'http://10.0.4.11:8081/admin/halt' });
    expect(requestsTo(deps, '10.0.2.11')[0]?.url).toBe('http://10.0.2.11:8080/admin/halt');
    expect(allRequests(deps).some((r) => 'tls' in r)).toBe(false);
  });

  it("keeps at most 300 characters of a task's answer", async () => {
    answers.set('10.0.2.11', { status: 503, body: 'x'.repeat(1000) });

    const result = await send();

    expect(result.services[0]?.failures).toEqual([`market-data-1 (10.0.2.11): 503 ${'x'.repeat(300)}`]);
  });

  it('skips tasks that are not RUNNING yet', async () => {
    tasks['risk-engine']?.push(buildTask('risk-engine-4', '10.0.3.99', { lastStatus: 'PENDING' }));

    const result = await send();

    expect(result.services[1]).toMatchObject({ service: 'risk-engine', tasks: 3 });
    expect(requestsTo(deps, '10.0.3.99')).toEqual([]);
  });

  it('reports a service that runs no task as commanded on zero tasks', async () => {
    tasks['market-data'] = [];

    const result = await send();

    expect(result.services[0]).toEqual({ service: 'market-data', tasks: 0, acknowledged: 0, failures: [] });
  });

  it('reports a service the fleet does not have, and still commands the others', async () => {
    const result = await send(buildHalt({ services: ['options-pricer', 'order-gateway'] }));

    expect(result.services).toEqual([
      { service: 'options-pricer', tasks: 0, acknowledged: 0, failures: ['not in the fleet'] },
      { service: 'order-gateway', tasks: 4, acknowledged: 4, failures: [] },
    ]);
  });

  it('sends nothing, and says why, when the fleet configures no admin API', async () => {
    deps = { ...deps, fleet: fleetWithoutHalt(deps.fleet) };

    const result = await send();

    expect(result).toEqual({ sent: false, why: 'the fleet file configures no admin API (halt.adminTokenSecret)', services: [] });
    expect(secrets).not.toHaveReceivedAnyCommand();
    expect(ecs).not.toHaveReceivedAnyCommand();
    expect(deps.http).not.toHaveBeenCalled();
  });

  it('fails, and records the failure, when the token cannot be read', async () => {
    secrets.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));

    await expect(send()).rejects.toThrow(ResourceNotFoundException);

    expect(deps.http).not.toHaveBeenCalled();
    expect(auditTrail(ddb)).toEqual(['halt.command-services intent started', 'halt.command-services outcome failed']);
    expect(auditRecords(ddb)[1]?.error).toEqual({ name: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
  });

  it('fails on a secret without a string value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ Name: ADMIN_TOKEN_SECRET, SecretBinary: new Uint8Array([1, 2, 3]) });

    await expect(send()).rejects.toThrow(`Secret ${ADMIN_TOKEN_SECRET} has no string value`);
    expect(deps.http).not.toHaveBeenCalled();
  });

  it('records intent and outcome on the fleet, with the acknowledgements per service', async () => {
    answers.set('10.0.4.12', { status: 500, body: 'busy' });

    await send();

    expect(auditTrail(ddb)).toEqual(['halt.command-services intent started', 'halt.command-services outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      subject: 'fleet',
      actor: 'assure',
      source: 'alarm:prod-daily-loss-limit',
      executionId: HALT_EXECUTION_ID,
      reason: buildHalt().reason,
      after: { sent: true, services: ['market-data: 3/3', 'risk-engine: 3/3', 'order-gateway: 3/4'] },
    });
  });
});

describe('send-halt-commands: the admin token stays secret', () => {
  it('puts the token in the Authorization header and nowhere else: not in the result, nor the audit trail', async () => {
    answers.set('10.0.4.12', { status: 500, body: 'busy' });
    answers.set('10.0.4.13', new Error('socket hang up'));

    const result = await send();

    expect(allRequests(deps).every((r) => r.headers?.authorization === `Bearer ${ADMIN_TOKEN}`)).toBe(true);
    expect(allRequests(deps).some((r) => (r.body ?? '').includes(ADMIN_TOKEN) || r.url.includes(ADMIN_TOKEN))).toBe(false);
    expect(JSON.stringify(result)).not.toContain(ADMIN_TOKEN);
    expect(ddb.calls().length).toBeGreaterThan(0);
    expect(dynamoWrites()).not.toContain(ADMIN_TOKEN);
  });

  it('logs nothing that holds the token, through the Lambda wrapper, on success and on failure', async () => {
    const logs = captureLogs();
    try {
      deps = { ...deps, logger: logs.logger };
      const handler = createHandler(sendHaltCommands, deps);

      await handler({ executionId: HALT_EXECUTION_ID, halt: buildHalt() }, lambdaContext('send-halt-commands'));
      ecs.on(ListTasksCommand).rejects(Object.assign(new Error(`User is not authorized to perform: ecs:ListTasks`), { name: 'AccessDeniedException' }));
      const error = await handler({ executionId: HALT_EXECUTION_ID, halt: buildHalt() }, lambdaContext('send-halt-commands')).catch((e: unknown) => e);

      expect((error as Error).message).not.toContain(ADMIN_TOKEN);
      // The failure was logged, so the capture saw the logger's output.
      expect(logs.text()).toContain('send-halt-commands failed');
      expect(logs.text()).not.toContain(ADMIN_TOKEN);
      expect(dynamoWrites()).not.toContain(ADMIN_TOKEN);
    } finally {
      logs.restore();
    }
  });

  it('does not leak the token when a logger is handed the AdminToken itself', () => {
    const logs = captureLogs();
    try {
      const token = new AdminToken(ADMIN_TOKEN);

      logs.logger.info('admin token', { token, nested: { token } });
      logs.logger.debug(`token ${String(token)}`);

      expect(logs.text()).toContain('[redacted]');
      expect(logs.text()).not.toContain(ADMIN_TOKEN);
    } finally {
      logs.restore();
    }
  });

  // A task that echoes the request's credentials in its error answer (some frameworks' 401 pages do)
  // puts the token in `failures`, which the handler returns into the execution's history.
  it('keeps the token out of the result even when a task echoes it in its answer', async () => {
    answers.set('10.0.4.11', { status: 401, body: `token Bearer ${ADMIN_TOKEN} is expired` });

    const result = await send();

    expect(result.services[2]?.acknowledged).toBe(3);
    expect(JSON.stringify(result)).not.toContain(ADMIN_TOKEN);
  });
});

describe('AdminToken', () => {
  const token = new AdminToken(ADMIN_TOKEN);

  it('gives the Authorization header value', () => {
    expect(token.authorization).toBe(`Bearer ${ADMIN_TOKEN}`);
  });

  it('redacts itself in JSON, in strings and in util.inspect / util.format', () => {
    expect(JSON.stringify({ token })).toBe('{"token":"[redacted]"}');
    expect(String(token)).toBe('[redacted]');
    expect(`${token}`).toBe('[redacted]');
    for (const text of [inspect(token), inspect({ token }, { showHidden: true, depth: 10 }), format('%s %j %o %O', token, token, token, token)]) {
      expect(text).not.toContain(ADMIN_TOKEN);
    }
  });

  it('has no enumerable property that holds the token', () => {
    expect(Object.keys(token)).toEqual([]);
    expect(Object.values(token).some((v) => String(v).includes(ADMIN_TOKEN))).toBe(false);
  });
});
