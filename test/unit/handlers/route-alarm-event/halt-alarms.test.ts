/** route-alarm-event and halt alarms: the halt flag first, then one halt execution per event. */
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { AwsTransientError } from '../../../../functions/shared/runtime/errors';
import { testConfig } from '../../../support/handler-deps';
import { SimulatedStateTable } from '../simulated-state-table';
import {
  alarmChange,
  AUDIT_FLEET,
  ddb,
  deps,
  EVENT_CLAIM,
  EVENT_ID,
  EXECUTION_NAME,
  expectPaged,
  HALT_ALARM,
  HALT_EXECUTION_ARN,
  HALT_FLAG_WRITE,
  HALT_ID,
  NOW,
  NOW_SECONDS,
  pages,
  route,
  setDeps,
  sfn,
  sns,
  ssm,
  STATE_REASON,
  statefulHaltFlag,
  stubClaimTaken,
  stubHaltFlag,
  theRecord,
  throttled,
  TRADING_SERVICES,
  transient,
  useRouteAlarmStubs,
  writes,
  paged,
} from './support';

useRouteAlarmStubs();

describe('route-alarm-event: halt alarms', () => {
  const haltReason = `${HALT_ALARM}: ${STATE_REASON}`;

  it('sets the halt flag as the very first write, then claims the event, then starts the halt workflow', async () => {
    const result = await route(alarmChange(HALT_ALARM));

    expect(result).toEqual({
      eventId: EVENT_ID,
      alarmName: HALT_ALARM,
      decision: 'halt-started',
      why: `halt ${HALT_ID}: ${haltReason}`,
      executionArn: HALT_EXECUTION_ARN,
    });
    // No page here: the halt workflow pages once, with its verified outcome.
    expect(writes()).toEqual([HALT_FLAG_WRITE, EVENT_CLAIM, `sfn StartExecution assure-prod-halt ${EXECUTION_NAME}`, AUDIT_FLEET]);
    // Belt and braces on the invariant itself: the flag precedes every other write of any client.
    const [flagWrite] = ssm.commandCalls(PutParameterCommand);
    const others = [
      ...ddb.commandCalls(PutItemCommand),
      ...ddb.commandCalls(UpdateItemCommand),
      ...sns.commandCalls(PublishCommand),
      ...sfn.commandCalls(StartExecutionCommand),
    ];
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) expect(flagWrite?.calledBefore(other)).toBe(true);
  });

  it('writes the flag as a halt of every trading service, from this alarm, by assure', async () => {
    await route(alarmChange(HALT_ALARM));

    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    const input = ssm.commandCalls(PutParameterCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ Name: testConfig.haltParameterName, Type: 'String', Overwrite: true });
    expect(JSON.parse(input?.Value ?? '')).toEqual({
      halted: true,
      haltId: HALT_ID,
      reason: haltReason,
      source: `alarm:${HALT_ALARM}`,
      actor: 'assure',
      at: NOW.toISOString(),
      services: TRADING_SERVICES,
    });
  });

  it('claims the event once and starts the halt state machine named after the event, with the halt as input', async () => {
    await route(alarmChange(HALT_ALARM));

    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: testConfig.stateTableName,
      Item: marshall({ pk: `once#event#${EVENT_ID}`, alarm: HALT_ALARM, claimId: EVENT_ID, at: NOW.toISOString(), expiresAt: NOW_SECONDS + 30 * 86_400 }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ stateMachineArn: testConfig.stateMachineArns.halt, name: EXECUTION_NAME });
    expect(JSON.parse(input?.input ?? '')).toEqual({
      haltId: HALT_ID,
      reason: haltReason,
      source: `alarm:${HALT_ALARM}`,
      actor: 'assure',
      services: TRADING_SERVICES,
    });
  });

  it('records the halt against the execution and leaves the page to the halt workflow', async () => {
    await route(alarmChange(HALT_ALARM));

    expect(theRecord()).toMatchObject({
      subject: 'fleet',
      executionId: HALT_EXECUTION_ARN,
      sk: `${NOW.toISOString()}#${EXECUTION_NAME}#alarm.route#outcome`,
      reason: `halt ${HALT_ID}: ${haltReason}`,
      after: {
        decision: 'halt-started',
        alarm: HALT_ALARM,
        kind: 'halt',
        page: 'not needed',
        pageWhy: 'the halt workflow pages its outcome',
      },
    });
    expect(pages()).toEqual([]);
  });

  it('halts only the services a halt alarm names', async () => {
    const halt = deps.fleet.halt;
    if (!halt) throw new Error('the example fleet has a halt policy');
    setDeps({
      ...deps,
      fleet: { ...deps.fleet, halt: { ...halt, alarms: halt.alarms.map((a) => (a.name === HALT_ALARM ? { ...a, services: ['order-gateway'] } : a)) } },
    });

    await route(alarmChange(HALT_ALARM));

    expect(JSON.parse(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input.Value ?? '')).toMatchObject({ services: ['order-gateway'] });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '')).toMatchObject({ services: ['order-gateway'] });
  });

  it('overwrites a flag it cannot read (fails closed) and halts', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: testConfig.haltParameterName, Value: 'not json', Type: 'String' } });

    await expect(route(alarmChange(HALT_ALARM))).resolves.toMatchObject({ decision: 'halt-started' });
    expect(writes()[0]).toBe(HALT_FLAG_WRITE);
  });

  it('when the flag cannot be set, nothing else is written and the error goes back to EventBridge', async () => {
    const failure = new AwsTransientError('SSM.PutParameter', 'ThrottlingException', 'Rate exceeded');
    ssm.on(PutParameterCommand).rejects(failure);

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBe(failure);
    expect(writes()).toEqual([HALT_FLAG_WRITE]);
  });

  it('a second delivery of the same event (its claim taken) is a duplicate: no second flag write, no second execution, no page', async () => {
    stubHaltFlag({ halted: true, haltId: HALT_ID, reason: haltReason, source: `alarm:${HALT_ALARM}`, actor: 'assure', at: NOW.toISOString() });
    stubClaimTaken(`once#event#${EVENT_ID}`);

    const result = await route(alarmChange(HALT_ALARM));

    expect(result).toEqual({ eventId: EVENT_ID, alarmName: HALT_ALARM, decision: 'duplicate', why: `this event already started halt ${HALT_ID}` });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(theRecord()).toMatchObject({ reason: `this event already started halt ${HALT_ID}`, after: { decision: 'duplicate' } });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(writes()).toEqual([EVENT_CLAIM, AUDIT_FLEET]);
  });

  it('delivered twice in a row, the event starts one halt', async () => {
    new SimulatedStateTable(ddb);
    const flag = statefulHaltFlag();

    const first = await route(alarmChange(HALT_ALARM));
    const second = await route(alarmChange(HALT_ALARM));

    expect([first.decision, second.decision]).toEqual(['halt-started', 'duplicate']);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(flag.flag()).toMatchObject({ halted: true, haltId: HALT_ID });
    expect(pages()).toHaveLength(0);
  });

  it('delivered twice at once, the event starts one halt', async () => {
    new SimulatedStateTable(ddb);
    statefulHaltFlag();

    const results = await Promise.all([route(alarmChange(HALT_ALARM)), route(alarmChange(HALT_ALARM))]);

    expect(results.map((r) => r.decision).sort()).toEqual(['duplicate', 'halt-started']);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('when trading is already halted by another halt, leaves the flag and starts nothing', async () => {
    stubHaltFlag({
      halted: true,
      haltId: 'halt-20250705-0f9e8d7c',
      reason: 'risk desk: manual halt',
      source: 'cli',
      actor: 'head-of-trading',
      at: '2025-07-05T12:01:00.000Z',
    });

    const result = await route(alarmChange(HALT_ALARM));

    const why = 'trading is already halted (halt-20250705-0f9e8d7c: risk desk: manual halt)';
    expect(result).toEqual({ eventId: EVENT_ID, alarmName: HALT_ALARM, decision: 'already-halted', why });
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(theRecord()).toMatchObject({ reason: why, after: { decision: 'already-halted', kind: 'halt' } });
    expectPaged(HALT_ALARM, 'already-halted', why);
    expect(writes()).toEqual(paged(HALT_ALARM));
  });

  it('a name already used by another input (ExecutionAlreadyExists) is a duplicate; the claim stays', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } }));

    await expect(route(alarmChange(HALT_ALARM))).resolves.toMatchObject({ decision: 'duplicate', why: `this event already started halt ${HALT_ID}` });
    expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
  });

  it.each([
    ['AwsTransientError', transient],
    ['ThrottlingException', throttled],
  ])('when StartExecution fails with %s, gives the event claim back and rethrows; the flag stays set', async (_label, error) => {
    const failure = error();
    sfn.on(StartExecutionCommand).rejects(failure);

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBe(failure);

    expect(writes()).toEqual([
      HALT_FLAG_WRITE,
      EVENT_CLAIM,
      `sfn StartExecution assure-prod-halt ${EXECUTION_NAME}`,
      `dynamodb DeleteItem state once#event#${EVENT_ID}`,
    ]);
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: `once#event#${EVENT_ID}` }),
      ConditionExpression: 'claimId = :claimId',
      ExpressionAttributeValues: marshall({ ':claimId': EVENT_ID }),
    });
  });

  it("EventBridge's retry after a failed StartExecution is not refused by the first attempt's claim", async () => {
    const table = new SimulatedStateTable(ddb);
    const flag = statefulHaltFlag();
    sfn.on(StartExecutionCommand).rejectsOnce(transient()).resolves({ executionArn: HALT_EXECUTION_ARN, startDate: new Date() });

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBeInstanceOf(AwsTransientError);
    expect(await table.item(`once#event#${EVENT_ID}`)).toBeUndefined();
    const retried = await route(alarmChange(HALT_ALARM));

    expect(retried).toMatchObject({ decision: 'halt-started', executionArn: HALT_EXECUTION_ARN });
    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(flag.flag()).toMatchObject({ haltId: HALT_ID });
    expect(await table.item(`once#event#${EVENT_ID}`)).toMatchObject({ claimId: EVENT_ID });
  });

  it('reports a claim it cannot give back, and still rethrows the original error', async () => {
    const failure = transient();
    sfn.on(StartExecutionCommand).rejects(failure);
    const releaseError = new AwsTransientError('DynamoDB.DeleteItem', 'ThrottlingException', 'Rate exceeded');
    ddb.on(DeleteItemCommand).rejects(releaseError);
    const logged = vi.spyOn(deps.logger, 'error');

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBe(failure);

    expect(logged).toHaveBeenCalledWith(expect.stringContaining('Could not release a guard-rail claim'), {
      claim: `once#event#${EVENT_ID}`,
      error: releaseError,
    });
  });

  // A halt id is used once: a redelivered event of a halt since resumed must not flag trading halted again.
  it('a redelivered event whose halt was since resumed does not set the flag again', async () => {
    stubHaltFlag({ halted: false, lastHaltId: HALT_ID, clearedBy: 'head-of-trading', at: '2025-07-05T12:23:00.000Z' });
    stubClaimTaken(`once#event#${EVENT_ID}`);

    const result = await route(alarmChange(HALT_ALARM));

    expect(result.decision).toBe('duplicate');
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });
});
