import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordHaltOutcome } from '../../../functions/record-halt-outcome/core';
import type { Halt } from '../../../functions/shared/domain/halt-plan';
import { type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail } from './builders';
import { buildHalt, HALT_EXECUTION_ID, HALT_ID, TRADING_SERVICES } from './halt-builders';

const NOW = new Date('2025-07-05T12:21:10.000Z');

type Input = Parameters<typeof recordHaltOutcome.core>[0];

const confirmedVerification = (): NonNullable<Input['verification']> => ({
  deadlineSeconds: 60,
  verifiedAt: '2025-07-05T12:21:08.000Z',
  confirmed: [
    { service: 'market-data', evidence: 'runs no task' },
    { service: 'risk-engine', evidence: '3/3 tasks halted with no open orders' },
    { service: 'order-gateway', evidence: '4/4 tasks halted with no open orders' },
  ],
  unconfirmed: [],
});

/** The Parallel state's three branch outputs when every action succeeded. */
const succeededActions = (): NonNullable<Input['actions']> => [
  { sent: true, why: '', services: [{ service: 'order-gateway', tasks: 4, acknowledged: 4, failures: [] }] },
  { stopped: [], rolledBack: [] },
  { stopped: [{ service: 'market-data', previousDesiredCount: 3 }] },
];

/** A Lambda error as a Catch puts it in the state: Cause is the whole error payload as JSON. */
const caught = (errorType: string, errorMessage: string) => ({
  failed: true as const,
  error: { Error: errorType, Cause: JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at core (index.mjs:1:1)'] }) },
});

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
});

afterEach(() => {
  vi.useRealTimers();
});

function record(overrides: Partial<Omit<Input, 'halt'>> & { halt?: Halt } = {}) {
  return recordHaltOutcome.core(
    {
      executionId: HALT_EXECUTION_ID,
      halt: buildHalt(),
      actions: succeededActions(),
      verification: confirmedVerification(),
      verificationFailure: null,
      ...overrides,
    },
    deps,
  );
}

describe('record-halt-outcome: CONFIRMED', () => {
  it('is CONFIRMED when every service confirmed and every action succeeded, with the page to send', async () => {
    await expect(record()).resolves.toEqual({
      status: 'CONFIRMED',
      haltId: HALT_ID,
      unconfirmed: [],
      subject: `Trading halted (${HALT_ID})`,
      message: [
        `Halt ${HALT_ID}: Equities desk P&L below the daily loss limit (-1m USD)`,
        'Requested by assure via alarm:prod-daily-loss-limit; flag set at 2025-07-05T12:20:01.000Z.',
        'Trading stopped: market-data, risk-engine, order-gateway confirmed within 60 s.',
        'Trading stays halted until a resume is approved: assure resume --reason <why>, then a second person approves.',
        `Execution ${HALT_EXECUTION_ID}`,
      ].join('\n'),
    });
  });

  it('records the halt outcome as succeeded, naming the confirmed services', async () => {
    await record();

    expect(auditTrail(ddb)).toEqual(['halt outcome succeeded']);
    expect(auditRecords(ddb)[0]).toMatchObject({
      pk: 'subject#fleet',
      action: 'halt',
      actor: 'assure',
      source: 'alarm:prod-daily-loss-limit',
      executionId: HALT_EXECUTION_ID,
      at: NOW.toISOString(),
      after: { haltId: HALT_ID, status: 'CONFIRMED', confirmed: [...TRADING_SERVICES], unconfirmed: [] },
    });
  });

  it('says when trading was already halted', async () => {
    const { message } = await record({ halt: buildHalt({ alreadyHalted: true }) });

    expect(message.split('\n')[0]).toBe(`Halt ${HALT_ID} (trading was already halted): Equities desk P&L below the daily loss limit (-1m USD)`);
  });
});

describe('record-halt-outcome: ESCALATED', () => {
  it('names every unconfirmed service in the subject, and its evidence in the message', async () => {
    const verification = {
      ...confirmedVerification(),
      confirmed: [{ service: 'market-data', evidence: 'runs no task' }],
      unconfirmed: [
        { service: 'risk-engine', evidence: '2/3 tasks confirmed; risk-engine-3 (10.0.3.13): halted=false, openOrders=0' },
        { service: 'order-gateway', evidence: '3/4 tasks confirmed; order-gateway-2 (10.0.4.12): halted=true, openOrders=7' },
      ],
    };

    const report = await record({ verification });

    expect(report).toMatchObject({
      status: 'ESCALATED',
      unconfirmed: ['risk-engine', 'order-gateway'],
      subject: 'HALT NOT CONFIRMED: risk-engine, order-gateway',
    });
    expect(report.message.split('\n')[2]).toBe(
      'NOT CONFIRMED, act now: risk-engine (2/3 tasks confirmed; risk-engine-3 (10.0.3.13): halted=false, openOrders=0); order-gateway (3/4 tasks confirmed; order-gateway-2 (10.0.4.12): halted=true, openOrders=7)',
    );
    expect(report.message).not.toContain('Trading stopped');
  });

  it('records the escalated halt as a failed outcome, naming who confirmed and who did not', async () => {
    const verification = {
      ...confirmedVerification(),
      confirmed: [{ service: 'market-data', evidence: 'runs no task' }],
      unconfirmed: [{ service: 'order-gateway', evidence: 'x' }],
    };

    await record({ verification });

    expect(auditTrail(ddb)).toEqual(['halt outcome failed']);
    expect(auditRecords(ddb)[0]?.after).toEqual({
      haltId: HALT_ID,
      status: 'ESCALATED',
      confirmed: ['market-data'],
      unconfirmed: ['order-gateway'],
      page: 'HALT NOT CONFIRMED: order-gateway',
    });
  });

  it('treats every halted service as unconfirmed when the verification itself failed, with the failure as evidence', async () => {
    const report = await record({ verification: null, verificationFailure: { Error: 'States.Timeout', Cause: 'Task timed out after 960.00 seconds' } });

    expect(report).toMatchObject({
      status: 'ESCALATED',
      unconfirmed: [...TRADING_SERVICES],
      subject: 'HALT NOT CONFIRMED: market-data, risk-engine, order-gateway',
    });
    expect(report.message).toContain(
      'market-data (States.Timeout: Task timed out after 960.00 seconds); risk-engine (States.Timeout: Task timed out after 960.00 seconds)',
    );
  });

  it("gives a failed Lambda's own message, not its JSON payload, as the evidence", async () => {
    const { error } = caught('AwsTransientError', 'ECS.ListTasks failed transiently (ThrottlingException): Rate exceeded');

    const report = await record({ verification: null, verificationFailure: error, halt: buildHalt({ services: ['order-gateway'] }) });

    expect(report.message.split('\n')[2]).toBe(
      'NOT CONFIRMED, act now: order-gateway (AwsTransientError: ECS.ListTasks failed transiently (ThrottlingException): Rate exceeded)',
    );
  });

  it("says 'not verified' when there is neither a verification nor a failure", async () => {
    const report = await record({ verification: null, verificationFailure: undefined });

    expect(report.status).toBe('ESCALATED');
    expect(report.message).toContain('market-data (not verified); risk-engine (not verified); order-gateway (not verified)');
    expect(auditRecords(ddb)[0]?.after).toMatchObject({ confirmed: [], unconfirmed: [...TRADING_SERVICES] });
  });

  it('escalates, listing each failed parallel branch by name, even when every service confirmed', async () => {
    const actions = [
      succeededActions()[0] ?? {},
      caught('AccessDeniedException', 'User is not authorized to perform: states:StopExecution'),
      caught('ResourceNotFoundException', 'Requested resource not found'),
    ];

    const report = await record({ actions });

    expect(report.status).toBe('ESCALATED');
    expect(report.unconfirmed).toEqual([]);
    expect(report.message.split('\n').filter((line) => line.startsWith('Failed: '))).toEqual([
      'Failed: stopping deploys: AccessDeniedException: User is not authorized to perform: states:StopExecution',
      'Failed: hard stops: ResourceNotFoundException: Requested resource not found',
    ]);
    expect(auditTrail(ddb)).toEqual(['halt outcome failed']);
  });

  it('names the admin halt calls when that branch failed, and lists failures after the verification line', async () => {
    const actions = [caught('ResourceNotFoundException', "Secrets Manager can't find the specified secret."), ...succeededActions().slice(1)];
    const verification = { ...confirmedVerification(), unconfirmed: [{ service: 'order-gateway', evidence: 'x' }] };

    const { message } = await record({ actions, verification });

    const lines = message.split('\n');
    expect(lines[2]).toMatch(/^NOT CONFIRMED, act now: order-gateway/);
    expect(lines[3]).toBe("Failed: admin halt calls: ResourceNotFoundException: Secrets Manager can't find the specified secret.");
    expect(lines[4]).toMatch(/^Trading stays halted until a resume is approved/);
    expect(lines[5]).toBe(`Execution ${HALT_EXECUTION_ID}`);
  });

  it('uses a plain cause as it is, and the error name alone when there is no cause', async () => {
    const actions = [
      { failed: true as const, error: { Error: 'States.Timeout' } },
      { failed: true as const, error: { Error: 'Lambda.Unknown', Cause: 'The cause could not be determined' } },
      {},
    ];

    const { message } = await record({ actions });

    expect(message).toContain('Failed: admin halt calls: States.Timeout\n');
    expect(message).toContain('Failed: stopping deploys: Lambda.Unknown: The cause could not be determined\n');
  });

  it('does not count a successful branch whose result says failed: false', async () => {
    await expect(record({ actions: [{ failed: false }, {}, {}] })).resolves.toMatchObject({ status: 'CONFIRMED' });
  });

  it('is CONFIRMED with no actions recorded (null), when every service confirmed', async () => {
    await expect(record({ actions: null })).resolves.toMatchObject({ status: 'CONFIRMED' });
  });

  // When every service confirmed but a parallel branch failed, the page must still say what went wrong.
  it('names what went wrong in the subject when only a parallel branch failed', async () => {
    const actions = [succeededActions()[0] ?? {}, caught('AccessDeniedException', 'User is not authorized to perform: states:StopExecution'), {}];

    const report = await record({ actions });

    expect(report.status).toBe('ESCALATED');
    expect(report.subject).not.toMatch(/:\s*$/);
    expect(report.message).not.toMatch(/act now: *\n/);
  });

  // SNS refuses subjects over 100 characters (InvalidParameter): an escalation naming many services must still page.
  it('keeps the page subject within the 100 characters SNS accepts, however many services did not confirm', async () => {
    const services = ['equities-order-gateway', 'fx-order-gateway', 'options-market-maker', 'futures-order-router', 'smart-order-router'];
    const verification = {
      ...confirmedVerification(),
      confirmed: [],
      unconfirmed: services.map((service) => ({ service, evidence: 'halted=false, openOrders=3' })),
    };

    const report = await record({ verification, halt: buildHalt({ services }) });

    expect(report.status).toBe('ESCALATED');
    expect(report.subject.length).toBeLessThanOrEqual(100);
  });
});
