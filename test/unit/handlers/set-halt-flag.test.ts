import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setHaltFlagHandler } from '../../../functions/set-halt-flag/core';
import { InvalidHaltRequestError } from '../../../functions/shared/runtime/errors';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, nonAuditCalls, auditWrites } from './builders';
import { FakeParameterStore, HALT_EXECUTION_ID, TRADING_SERVICES } from './halt-builders';

const NOW = new Date('2025-07-05T12:20:01.000Z');
const SECOND_EXECUTION_ID = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-halt:manual-halt-2';

const request = {
  reason: 'Equities desk P&L below the daily loss limit',
  actor: 'head-of-trading',
  source: 'cli',
};

let deps: TestDeps;
let ssm: AwsClientStub<SSMClient>;
let ddb: AwsClientStub<DynamoDBClient>;
let store: FakeParameterStore;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ssm = mockClient(deps.clients.ssm);
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  store = new FakeParameterStore(ssm);
});

afterEach(() => {
  vi.useRealTimers();
});

const setFlag = (body: unknown, executionId = HALT_EXECUTION_ID) => setHaltFlagHandler.core({ executionId, request: body }, deps);

/** A refused request: the named error, and the refusal as the one write (an audit record; the flag untouched). */
async function refusal(body: unknown, executionId = HALT_EXECUTION_ID): Promise<Error> {
  const error = await setFlag(body, executionId).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidHaltRequestError);
  expect(error).toMatchObject({ name: 'InvalidHaltRequestError' });
  expect(nonAuditCalls(ddb)).toEqual([]);
  expect(auditRecords(ddb)).toEqual([
    expect.objectContaining({
      action: 'halt',
      subject: 'fleet',
      executionId,
      phase: 'outcome',
      status: 'failed',
      error: { name: 'InvalidHaltRequestError', message: (error as Error).message },
    }),
  ]);
  expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  return error as Error;
}

describe('set-halt-flag: the first halt', () => {
  it('sets the flag in the halt parameter, with who, why and when, and a halt id from the execution name', async () => {
    await setFlag(request);

    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, { Name: testConfig.haltParameterName, Type: 'String', Overwrite: true });
    expect(store.flag()).toEqual({
      halted: true,
      haltId: 'halt-halt-20250705-c4c1c1c9',
      reason: request.reason,
      source: 'cli',
      actor: 'head-of-trading',
      at: NOW.toISOString(),
    });
  });

  it('hands on the halt of every trading service, in deploy order, when the request names none', async () => {
    const state = await setFlag(request);

    expect(state).toEqual({
      request: { ...request },
      halt: {
        haltId: 'halt-halt-20250705-c4c1c1c9',
        reason: request.reason,
        source: 'cli',
        actor: 'head-of-trading',
        services: [...TRADING_SERVICES],
        alreadyHalted: false,
        flaggedAt: NOW.toISOString(),
      },
      actions: null,
      verification: null,
      verificationFailure: null,
      report: null,
    });
  });

  it("defaults the source to 'console'", async () => {
    const { source: _source, ...withoutSource } = request;

    const { halt } = await setFlag(withoutSource);

    expect(halt.source).toBe('console');
    expect(store.flag()).toMatchObject({ source: 'console' });
  });

  it('keeps the halt id the alarm router chose, and the services the request names', async () => {
    const { halt } = await setFlag({ ...request, haltId: 'halt-20250705-c4c1c1c9', services: ['order-gateway', 'risk-engine'] });

    expect(halt).toMatchObject({ haltId: 'halt-20250705-c4c1c1c9', services: ['order-gateway', 'risk-engine'], alreadyHalted: false });
    expect(store.flag()).toMatchObject({ haltId: 'halt-20250705-c4c1c1c9', services: ['order-gateway', 'risk-engine'] });
  });

  it('derives a halt id of at most 80 characters from a long execution name', async () => {
    const longName = 'x'.repeat(80);

    const { halt } = await setFlag(request, `arn:aws:states:eu-west-2:111122223333:execution:assure-prod-halt:${longName}`);

    expect(halt.haltId).toBe(`halt-${longName}`.slice(0, 80));
    expect(halt.haltId).toHaveLength(80);
  });

  it('sets the flag when the last halt was resumed', async () => {
    store.value = JSON.stringify({ halted: false, lastHaltId: 'halt-earlier', clearedBy: 'chief-risk-officer', at: '2025-07-04T09:00:00.000Z' });

    const { halt } = await setFlag(request);

    expect(halt.alreadyHalted).toBe(false);
    expect(store.flag()).toMatchObject({ halted: true, haltId: 'halt-halt-20250705-c4c1c1c9' });
  });

  it('fails closed: a flag that is not JSON is overwritten with the new halt', async () => {
    store.value = '{not json';

    const { halt } = await setFlag(request);

    expect(halt.alreadyHalted).toBe(false);
    expect(store.flag()).toMatchObject({ halted: true, haltId: halt.haltId });
  });

  it('fails closed: a parameter that does not hold a halt flag is overwritten with the new halt', async () => {
    store.value = JSON.stringify({ halted: 'yes' });

    await setFlag(request);

    expect(store.flag()).toMatchObject({ halted: true, reason: request.reason });
  });
});

describe('set-halt-flag: an idempotent set, never a toggle', () => {
  it('keeps the first halt id when trading is already halted, and writes the flag only once', async () => {
    const first = await setFlag(request);

    const second = await setFlag({ reason: 'second opinion: venue down', actor: 'chief-risk-officer' }, SECOND_EXECUTION_ID);

    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(store.flag()).toMatchObject({ halted: true, haltId: first.halt.haltId, reason: request.reason, actor: 'head-of-trading' });
    expect(second.halt).toMatchObject({
      haltId: first.halt.haltId,
      reason: request.reason,
      alreadyHalted: true,
      flaggedAt: first.halt.flaggedAt,
    });
  });

  it('never un-halts: a second halt while halted leaves halted: true', async () => {
    await setFlag(request);
    await setFlag(request, SECOND_EXECUTION_ID);
    await setFlag(request, `${SECOND_EXECUTION_ID}-b`);

    expect(store.flag()).toMatchObject({ halted: true });
    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
  });

  it('keeps the services of the halt in force when a second halt names others', async () => {
    store.value = JSON.stringify({
      halted: true,
      haltId: 'halt-first',
      reason: 'order-gateway only',
      at: '2025-07-05T12:00:00.000Z',
      services: ['order-gateway'],
    });

    const { halt } = await setFlag({ ...request, services: ['market-data'] });

    expect(halt).toMatchObject({
      haltId: 'halt-first',
      services: ['order-gateway'],
      reason: 'order-gateway only',
      alreadyHalted: true,
      flaggedAt: '2025-07-05T12:00:00.000Z',
    });
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });

  // A fleet-wide halt stores no services (it means every trading service): a later, narrower request must not
  // shrink what the halt in force covers or what this execution verifies.
  it('reports every trading service for a fleet-wide halt in force, whatever a later request names', async () => {
    await setFlag(request);

    const { halt } = await setFlag({ ...request, services: ['order-gateway'] }, SECOND_EXECUTION_ID);

    expect(halt.alreadyHalted).toBe(true);
    expect(halt.services).toEqual([...TRADING_SERVICES]);
  });

  it('does not call a retried invocation of the same halt "already halted", and does not write the flag again', async () => {
    await setFlag(request);
    const retried = await setFlag(request);

    expect(retried.halt).toMatchObject({ haltId: 'halt-halt-20250705-c4c1c1c9', alreadyHalted: false });
    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
  });

  it('takes over the flag the alarm router set under the same halt id, with its time', async () => {
    store.value = JSON.stringify({
      halted: true,
      haltId: 'halt-20250705-c4c1c1c9',
      reason: 'prod-daily-loss-limit in ALARM',
      source: 'alarm:prod-daily-loss-limit',
      actor: 'assure',
      at: '2025-07-05T12:20:00.500Z',
    });

    const { halt } = await setFlag({
      reason: 'prod-daily-loss-limit in ALARM',
      actor: 'assure',
      source: 'alarm:prod-daily-loss-limit',
      haltId: 'halt-20250705-c4c1c1c9',
    });

    expect(halt).toEqual({
      haltId: 'halt-20250705-c4c1c1c9',
      reason: 'prod-daily-loss-limit in ALARM',
      source: 'alarm:prod-daily-loss-limit',
      actor: 'assure',
      services: [...TRADING_SERVICES],
      alreadyHalted: false,
      flaggedAt: '2025-07-05T12:20:00.500Z',
    });
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });
});

describe('set-halt-flag: the flag first, then the audit trail', () => {
  it('writes the flag before the audit record', async () => {
    await setFlag(request);

    const [put] = ssm.commandCalls(PutParameterCommand);
    const [audit] = auditWrites(ddb);
    expect(put).toBeDefined();
    expect(audit).toBeDefined();
    expect(put?.calledBefore(audit as NonNullable<typeof audit>)).toBe(true);
  });

  it('records the halt as an intent on the fleet, with the halt id, services and when the flag was set', async () => {
    await setFlag(request);

    expect(auditTrail(ddb)).toEqual(['halt intent started']);
    expect(auditRecords(ddb)[0]).toMatchObject({
      pk: 'subject#fleet',
      action: 'halt',
      subject: 'fleet',
      actor: 'head-of-trading',
      source: 'cli',
      executionId: HALT_EXECUTION_ID,
      reason: request.reason,
      at: NOW.toISOString(),
      after: { haltId: 'halt-halt-20250705-c4c1c1c9', services: [...TRADING_SERVICES], flagSetAt: NOW.toISOString(), alreadyHalted: false },
    });
  });

  it('records a second halt as already halted, under the first halt id', async () => {
    await setFlag(request);
    await setFlag({ ...request, actor: 'chief-risk-officer' }, SECOND_EXECUTION_ID);

    expect(auditRecords(ddb)[1]).toMatchObject({
      actor: 'chief-risk-officer',
      executionId: SECOND_EXECUTION_ID,
      after: { haltId: 'halt-halt-20250705-c4c1c1c9', alreadyHalted: true },
    });
  });

  it('records nothing when the flag cannot be written', async () => {
    ssm.on(PutParameterCommand).rejects(Object.assign(new Error('User is not authorized to perform: ssm:PutParameter'), { name: 'AccessDeniedException' }));

    await expect(setFlag(request)).rejects.toThrow(/not authorized/);

    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('does not overwrite a flag it could not read for another reason than its absence', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(setFlag(request)).rejects.toThrow('Rate exceeded');

    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});

describe('set-halt-flag: a malformed request', () => {
  it.each([
    ['reason missing', { actor: 'head-of-trading' }, /^Invalid halt request: reason: /],
    ['reason empty', { ...request, reason: '' }, /^Invalid halt request: reason: is required$/],
    ['reason too long', { ...request, reason: 'x'.repeat(501) }, /^Invalid halt request: reason: .*500/],
    ['actor empty', { ...request, actor: '' }, /^Invalid halt request: actor: is required$/],
    ['source empty', { ...request, source: '' }, /^Invalid halt request: source: /],
    ['no services', { ...request, services: [] }, /^Invalid halt request: services: /],
    ['an empty service name', { ...request, services: [''] }, /^Invalid halt request: services\.0: /],
    ['a halt id with spaces', { ...request, haltId: 'halt now' }, /^Invalid halt request: haltId: must be letters, digits and hyphens$/],
    ['a halt id over 80 characters', { ...request, haltId: 'h'.repeat(81) }, /^Invalid halt request: haltId: must be letters, digits and hyphens$/],
    ['an unknown field', { ...request, force: true }, /^Invalid halt request: .*"force"/],
    ['not an object', 'halt everything', /^Invalid halt request: \(input\): /],
  ])('refuses %s with InvalidHaltRequestError naming the field, records the refusal, and touches nothing else', async (_case, body, message) => {
    const error = await refusal(body);

    expect(error.message).toMatch(message);
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it('records who asked: the actor when the request names one, unknown otherwise', async () => {
    await refusal({ ...request, reason: '' });
    expect(auditRecords(ddb)[0]?.actor).toBe('head-of-trading');

    ddb.resetHistory();
    await refusal('halt everything');
    expect(auditRecords(ddb)[0]?.actor).toBe('unknown');
  });

  it('names every bad field at once', async () => {
    const error = await refusal({ reason: '', actor: '', haltId: 'no spaces allowed' });

    expect(error.message).toBe('Invalid halt request: reason: is required; actor: is required; haltId: must be letters, digits and hyphens');
  });

  it('refuses a service the fleet does not have, listing the trading services', async () => {
    const error = await refusal({ ...request, services: ['order-gateway', 'options-pricer'] });

    expect(error.message).toBe('Invalid halt request: services: options-pricer is not a trading service (trading: market-data, risk-engine, order-gateway)');
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it('refuses support services: only trading services halt', async () => {
    const error = await refusal({ ...request, services: ['reference-data', 'web-gui'] });

    expect(error.message).toBe(
      'Invalid halt request: services: reference-data, web-gui are not trading services (trading: market-data, risk-engine, order-gateway)',
    );
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it('refuses a halt id that already ran and was resumed, leaving the flag as it is', async () => {
    store.value = JSON.stringify({ halted: false, lastHaltId: 'halt-earlier', clearedBy: 'chief-risk-officer', at: '2025-07-04T09:00:00.000Z' });

    const error = await refusal({ ...request, haltId: 'halt-earlier' });

    expect(error.message).toBe('Invalid halt request: haltId: halt halt-earlier already ran and was resumed; a new halt needs a new id');
  });
});
