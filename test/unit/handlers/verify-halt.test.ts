import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type ECSClient, type Task } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Halt } from '../../../functions/shared/domain/halt-plan';
import type { HttpRequest, HttpResponse } from '../../../functions/shared/runtime/http';
import { verifyHalt } from '../../../functions/verify-halt/core';
import { type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail } from './builders';
import {
  ADMIN_API_TLS,
  ADMIN_TOKEN,
  ADMIN_TOKEN_SECRET,
  allRequests,
  buildHalt,
  fleetWithoutHalt,
  HALT_EXECUTION_ID,
  requestsTo,
  stubAdminApi,
  stubAdminToken,
  stubServiceTasks,
  tradingTasks,
} from './halt-builders';

const NOW = new Date('2025-07-05T12:20:05.000Z');
const at = (seconds: number): string => new Date(NOW.getTime() + seconds * 1000).toISOString();

interface AppStatus {
  halted: unknown;
  openOrders: unknown;
}

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;
let secrets: AwsClientStub<SecretsManagerClient>;
let tasks: Record<string, Task[]>;
/** What GET /admin/status answers per task IP (default: halted with no open orders). */
let status: Map<string, AppStatus>;
let answers: Map<string, HttpResponse | Error>;

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  ecs = mockClient(deps.clients.ecs);
  tasks = tradingTasks();
  stubServiceTasks(ecs, tasks);
  secrets = stubAdminToken(deps);
  status = new Map();
  answers = new Map();
  stubAdminApi(
    deps,
    (request: HttpRequest) => ({
      status: 200,
      body: JSON.stringify({ haltId: 'halt-20250705-c4c1c1c9', ...(status.get(new URL(request.url).hostname) ?? { halted: true, openOrders: 0 }) }),
    }),
    answers,
  );
});

afterEach(() => {
  vi.useRealTimers();
});

/** Starts verify-halt and notes the (fake) time it settled at. */
function startVerify(halt: Halt = buildHalt()) {
  let settledAt: number | undefined;
  const promise = verifyHalt.core({ executionId: HALT_EXECUTION_ID, halt }, deps);
  promise.then(
    () => (settledAt = Date.now()),
    () => (settledAt = Date.now()),
  );
  return { promise, settledAfterSeconds: () => (settledAt === undefined ? undefined : (settledAt - NOW.getTime()) / 1000) };
}

/** Status requests per polling round: one per running trading task (3 + 3 + 4). */
const rounds = (tasksPerRound = 10): number => allRequests(deps).length / tasksPerRound;

describe('verify-halt: every service confirms', () => {
  it('confirms every service whose tasks all report halted with no open orders, in one round', async () => {
    const run = startVerify();
    await vi.advanceTimersByTimeAsync(0);

    await expect(run.promise).resolves.toEqual({
      deadlineSeconds: 60,
      verifiedAt: NOW.toISOString(),
      confirmed: [
        { service: 'market-data', confirmed: true, evidence: '3/3 tasks halted with no open orders' },
        { service: 'risk-engine', confirmed: true, evidence: '3/3 tasks halted with no open orders' },
        { service: 'order-gateway', confirmed: true, evidence: '4/4 tasks halted with no open orders' },
      ],
      unconfirmed: [],
    });
    expect(rounds()).toBe(1);
  });

  it("asks GET /admin/status on each task's admin port with the bearer token from the fleet's secret", async () => {
    const run = startVerify();
    await vi.advanceTimersByTimeAsync(0);
    await run.promise;

    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ADMIN_TOKEN_SECRET });
    expect(requestsTo(deps, '10.0.4.12')).toEqual([
      {
        method: 'GET',
        url: 'https://10.0.4.12:8081/admin/status',
        tls: ADMIN_API_TLS,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        timeoutMs: 3000,
      },
    ]);
    expect(requestsTo(deps, '10.0.2.12')[0]?.url).toBe('https://10.0.2.12:8443/admin/status');
  });

  it('confirms a service that runs no task (a hard stop) without asking it anything', async () => {
    tasks['market-data'] = [];

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(0);

    await expect(run.promise).resolves.toMatchObject({
      confirmed: expect.arrayContaining([{ service: 'market-data', confirmed: true, evidence: 'runs no task' }]),
      unconfirmed: [],
    });
    expect(allRequests(deps).some((r) => r.url.includes('10.0.2.'))).toBe(false);
  });

  it('polls every 2 seconds until the last open orders drain', async () => {
    status.set('10.0.4.13', { halted: true, openOrders: 12 });
    status.set('10.0.3.11', { halted: false, openOrders: 0 });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rounds()).toBe(2);
    status.set('10.0.3.11', { halted: true, openOrders: 0 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rounds()).toBe(3);
    expect(run.settledAfterSeconds()).toBeUndefined();
    status.set('10.0.4.13', { halted: true, openOrders: 0 });
    await vi.advanceTimersByTimeAsync(2_000);

    expect(run.settledAfterSeconds()).toBe(6);
    expect(rounds()).toBe(4);
    await expect(run.promise).resolves.toMatchObject({ verifiedAt: at(6), unconfirmed: [] });
  });

  it('verifies only the services the halt names', async () => {
    const run = startVerify(buildHalt({ services: ['order-gateway'] }));
    await vi.advanceTimersByTimeAsync(0);

    await expect(run.promise).resolves.toMatchObject({ confirmed: [{ service: 'order-gateway' }], unconfirmed: [] });
    expect(allRequests(deps)).toHaveLength(4);
  });
});

describe('verify-halt: a service that never confirms', () => {
  it('is returned in unconfirmed by name, with evidence, once the fleet deadline (60 s) has passed', async () => {
    status.set('10.0.4.12', { halted: true, openOrders: 7 });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(run.settledAfterSeconds()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);

    expect(run.settledAfterSeconds()).toBe(60);
    const result = await run.promise;
    expect(result.unconfirmed).toEqual([
      { service: 'order-gateway', confirmed: false, evidence: '3/4 tasks confirmed; order-gateway-2 (10.0.4.12): halted=true, openOrders=7' },
    ]);
    expect(result.confirmed.map((c) => c.service)).toEqual(['market-data', 'risk-engine']);
    expect(result.verifiedAt).toBe(at(60));
    // Rounds at 0, 2, 4, ... 60 s.
    expect(rounds()).toBe(31);
  });

  it("takes the deadline from the fleet's halt.verifyDeadlineSeconds", async () => {
    const halt = deps.fleet.halt;
    if (!halt) throw new Error('the example fleet has a halt section');
    deps = { ...deps, fleet: { ...deps.fleet, halt: { ...halt, verifyDeadlineSeconds: 10 } } };
    status.set('10.0.2.13', { halted: false, openOrders: 0 });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(30_000);

    expect(run.settledAfterSeconds()).toBe(10);
    await expect(run.promise).resolves.toMatchObject({
      deadlineSeconds: 10,
      unconfirmed: [{ service: 'market-data', evidence: '2/3 tasks confirmed; market-data-3 (10.0.2.13): halted=false, openOrders=0' }],
    });
    expect(rounds()).toBe(6);
  });

  it('keeps the evidence of the last round, not the first', async () => {
    status.set('10.0.4.11', { halted: false, openOrders: 40 });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(30_000);
    status.set('10.0.4.11', { halted: true, openOrders: 3 });
    await vi.advanceTimersByTimeAsync(30_000);

    await expect(run.promise).resolves.toMatchObject({
      unconfirmed: [{ service: 'order-gateway', evidence: '3/4 tasks confirmed; order-gateway-1 (10.0.4.11): halted=true, openOrders=3' }],
    });
  });

  it('counts an error answer, an unreachable task, a status that is not JSON and a missing field against the service', async () => {
    answers.set('10.0.4.11', { status: 401, body: '{"error":"unauthorized"}' });
    answers.set('10.0.4.12', Object.assign(new Error('connect ETIMEDOUT 10.0.4.12:8081'), { name: 'TimeoutError' }));
    answers.set('10.0.4.13', { status: 200, body: '<html>OK</html>' });
    status.set('10.0.3.12', { halted: true, openOrders: undefined });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(60_000);

    const result = await run.promise;
    expect(result.unconfirmed).toEqual([
      { service: 'risk-engine', confirmed: false, evidence: '2/3 tasks confirmed; risk-engine-2 (10.0.3.12): halted=true, openOrders=undefined' },
      {
        service: 'order-gateway',
        confirmed: false,
        evidence:
          '1/4 tasks confirmed; order-gateway-1 (10.0.4.11): 401 {"error":"unauthorized"}; order-gateway-2 (10.0.4.12): unreachable connect ETIMEDOUT 10.0.4.12:8081; order-gateway-3 (10.0.4.13): status is not JSON',
      },
    ]);
  });

  it('does not take a truthy halted or a string zero for a confirmation', async () => {
    status.set('10.0.2.11', { halted: 'true', openOrders: 0 });
    status.set('10.0.3.11', { halted: true, openOrders: '0' });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(60_000);

    await expect(run.promise).resolves.toMatchObject({ unconfirmed: [{ service: 'market-data' }, { service: 'risk-engine' }] });
  });

  it('names at most three problem tasks in the evidence', async () => {
    for (const ip of ['10.0.4.11', '10.0.4.12', '10.0.4.13', '10.0.4.14']) status.set(ip, { halted: false, openOrders: 1 });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(60_000);

    const evidence = (await run.promise).unconfirmed[0]?.evidence ?? '';
    expect(evidence).toMatch(/^0\/4 tasks confirmed; /);
    expect(evidence.split('; ')).toHaveLength(4);
    expect(evidence).not.toContain('order-gateway-4');
  });

  it('does not confirm a service the fleet does not have', async () => {
    const run = startVerify(buildHalt({ services: ['options-pricer', 'order-gateway'] }));
    await vi.advanceTimersByTimeAsync(60_000);

    await expect(run.promise).resolves.toMatchObject({
      confirmed: [{ service: 'order-gateway' }],
      unconfirmed: [{ service: 'options-pricer', confirmed: false, evidence: 'not in the fleet file' }],
    });
  });

  it('confirms nothing when the fleet configures no admin API: nobody can say trading stopped', async () => {
    deps = { ...deps, fleet: fleetWithoutHalt(deps.fleet) };

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(60_000);

    const result = await run.promise;
    expect(result.deadlineSeconds).toBe(60);
    expect(result.confirmed).toEqual([]);
    expect(result.unconfirmed.map((u) => [u.service, u.evidence])).toEqual([
      ['market-data', 'no admin API configured: cannot ask whether it stopped'],
      ['risk-engine', 'no admin API configured: cannot ask whether it stopped'],
      ['order-gateway', 'no admin API configured: cannot ask whether it stopped'],
    ]);
    expect(deps.http).not.toHaveBeenCalled();
    expect(secrets).not.toHaveReceivedAnyCommand();
  });
});

describe('verify-halt: the audit trail', () => {
  it('records intent and outcome, naming the confirmed and unconfirmed services', async () => {
    status.set('10.0.3.13', { halted: true, openOrders: 2 });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(60_000);
    await run.promise;

    expect(auditTrail(ddb)).toEqual(['halt.verify intent started', 'halt.verify outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      subject: 'fleet',
      executionId: HALT_EXECUTION_ID,
      at: at(60),
      after: { confirmed: ['market-data', 'order-gateway'], unconfirmed: ['risk-engine'] },
    });
  });

  it('keeps the token out of the result and the audit trail', async () => {
    status.set('10.0.3.13', { halted: true, openOrders: 2 });

    const run = startVerify();
    await vi.advanceTimersByTimeAsync(60_000);
    const result = await run.promise;

    expect(JSON.stringify(result)).not.toContain(ADMIN_TOKEN);
    expect(JSON.stringify(ddb.calls().map((c) => c.args[0].input))).not.toContain(ADMIN_TOKEN);
  });
});
