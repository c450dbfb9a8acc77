/** route-alarm-event refusing events: malformed, foreign, replayed, stale, future-dated, or not a change into ALARM; paged only when a person must act. */
import { describe, expect, it } from 'vitest';
import type { CloudWatchAlarmStateChange } from '../../../../functions/shared/domain/aws-events';
import { testConfig } from '../../../support/handler-deps';
import { auditRecordHash, GENESIS_HASH } from '../../../../functions/shared/domain/audit-chain';
import { ACCOUNT, auditWrites } from '../builders';
import {
  alarmChange,
  AUDIT_FLEET,
  ddb,
  documented,
  EVENT_ID,
  EVENT_TIME,
  expectNoAction,
  expectPaged,
  HALT_ALARM,
  NOTIFY_ALARM,
  NOW,
  PAGE,
  pages,
  ROLLBACK_ALARM,
  route,
  ssm,
  theRecord,
  useRouteAlarmStubs,
  withGuardRails,
  writes,
  paged,
  pageWindow,
} from './support';

useRouteAlarmStubs();

describe('route-alarm-event: refusals', () => {
  describe('malformed events: named field, recorded, paged, nothing done', () => {
    const valid = (): CloudWatchAlarmStateChange => alarmChange(HALT_ALARM);
    it.each<[string, () => unknown, string, string]>([
      ['no alarm name', () => ({ ...valid(), detail: { ...valid().detail, alarmName: undefined } }), 'detail.alarmName', EVENT_ID],
      ['an empty alarm name', () => ({ ...valid(), detail: { ...valid().detail, alarmName: '' } }), 'detail.alarmName', EVENT_ID],
      ['another source', () => ({ ...valid(), source: 'aws.ecs' }), 'source', EVENT_ID],
      ['another detail-type', () => ({ ...valid(), 'detail-type': 'CloudWatch Alarm Configuration Change' }), 'detail-type', EVENT_ID],
      [
        'an unknown state',
        () => ({ ...valid(), detail: { ...valid().detail, state: { ...valid().detail.state, value: 'FIRING' } } }),
        'detail.state.value',
        EVENT_ID,
      ],
      ['no previous state', () => ({ ...valid(), detail: { ...valid().detail, previousState: undefined } }), 'detail.previousState', EVENT_ID],
      ['no state timestamp', () => ({ ...valid(), detail: { ...valid().detail, state: { value: 'ALARM', reason: 'x' } } }), 'detail.state.timestamp', EVENT_ID],
      ['no time', () => ({ ...valid(), time: undefined }), 'time', EVENT_ID],
      ['resources that are not a list', () => ({ ...valid(), resources: 'arn:aws:cloudwatch:eu-west-2:111122223333:alarm:x' }), 'resources', EVENT_ID],
      ['an id that is not a string', () => ({ ...valid(), id: 42 }), 'id', 'unknown'],
      ['null', () => null, '(input)', 'unknown'],
      ['a string', () => JSON.stringify(valid()), '(input)', 'unknown'],
    ])('%s', async (_label, event, field, eventId) => {
      const result = await route(event());

      expect(result).toEqual({ eventId, decision: 'rejected', why: expect.stringMatching(/^malformed event: /) });
      expect(result.why).toContain(`${field}: `);
      expect(theRecord()).toMatchObject({
        pk: 'subject#fleet',
        action: 'alarm.route',
        subject: 'fleet',
        actor: 'assure',
        source: `eventbridge:${eventId}`,
        executionId: `event:${eventId}`,
        phase: 'outcome',
        status: 'succeeded',
        reason: result.why,
        after: { decision: 'rejected' },
      });
      expectPaged('alarm event', 'rejected', result.why);
      // Without an id there is nothing to claim the page by.
      expect(writes()).toEqual(eventId === 'unknown' ? [pageWindow('alarm event'), AUDIT_FLEET, PAGE] : paged('alarm event'));
      expectNoAction();
    });
  });

  it('records the refusal under the event with the documented audit keys', async () => {
    await route(alarmChange(HALT_ALARM, { account: '444455556666' }));

    const record = theRecord();
    expect(record).toEqual({
      pk: 'subject#fleet',
      sk: `${NOW.toISOString()}#${EVENT_ID}#alarm.route#outcome`,
      trail: 'trail',
      action: 'alarm.route',
      subject: 'fleet',
      actor: 'assure',
      source: `eventbridge:${EVENT_ID}`,
      executionId: `event:${EVENT_ID}`,
      reason: 'event from foreign account 444455556666',
      phase: 'outcome',
      status: 'succeeded',
      at: NOW.toISOString(),
      after: { decision: 'rejected', alarm: HALT_ALARM, page: 'not needed', pageWhy: 'an untrusted event' },
      // The first record of its subject's hash chain.
      seq: 1,
      prevHash: GENESIS_HASH,
      hash: auditRecordHash(record),
    });
    expect(auditWrites(ddb)[0]?.args[0].input.TransactItems?.[0]?.Put).toMatchObject({
      TableName: testConfig.auditTableName,
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    // A forged event needs no person: recorded, not paged.
    expect(pages()).toEqual([]);
  });

  it("refuses an alarm the fleet file does not define (AWS's documented example as it stands)", async () => {
    const event = { ...documented, account: ACCOUNT, region: 'eu-west-2', time: EVENT_TIME };

    const result = await route(event);

    expect(result).toEqual({ eventId: EVENT_ID, alarmName: 'ServerCpuTooHigh', decision: 'rejected', why: 'alarm not in the fleet file' });
    expect(theRecord()).toMatchObject({ subject: 'fleet', reason: 'alarm not in the fleet file', after: { decision: 'rejected', alarm: 'ServerCpuTooHigh' } });
    expect(theRecord().after).not.toHaveProperty('kind');
    expectPaged('ServerCpuTooHigh', 'rejected', 'alarm not in the fleet file');
    expect(writes()).toEqual(paged('ServerCpuTooHigh'));
    expectNoAction();
  });

  // Refusals decided before the alarm is classified are recorded against the fleet;
  // refusals of a classified alarm against what it would act on.
  const unclassified: [string, (alarm: string) => CloudWatchAlarmStateChange, string][] = [
    ['from a foreign account', (a) => alarmChange(a, { account: '444455556666' }), 'event from foreign account 444455556666'],
    ['from a foreign region', (a) => alarmChange(a, { region: 'us-east-1' }), 'event from foreign region us-east-1'],
    ['older than maxEventAgeSeconds (300 s)', (a) => alarmChange(a, { time: '2025-07-05T12:15:29Z' }), 'stale event: 301 s old, more than 300 s'],
    ['much older (an hour)', (a) => alarmChange(a, { time: '2025-07-05T11:20:30Z' }), 'stale event: 3600 s old, more than 300 s'],
    [
      'dated more than the clock skew ahead (61 s)',
      (a) => alarmChange(a, { time: '2025-07-05T12:21:31Z' }),
      'future-dated event: 61 s ahead of the clock, more than the 60 s skew allowed',
    ],
    [
      'dated two days ahead',
      (a) => alarmChange(a, { time: '2025-07-07T12:20:30Z' }),
      'future-dated event: 172800 s ahead of the clock, more than the 60 s skew allowed',
    ],
  ];
  const classified: [string, (alarm: string) => CloudWatchAlarmStateChange, string][] = [
    ['a change back to OK', (a) => alarmChange(a, { from: 'ALARM', to: 'OK' }), 'not a change into ALARM (ALARM → OK)'],
    ['ALARM → ALARM (a re-evaluation, not a change)', (a) => alarmChange(a, { from: 'ALARM', to: 'ALARM' }), 'not a change into ALARM (ALARM → ALARM)'],
    ['INSUFFICIENT_DATA → OK', (a) => alarmChange(a, { from: 'INSUFFICIENT_DATA', to: 'OK' }), 'not a change into ALARM (INSUFFICIENT_DATA → OK)'],
    ['OK → INSUFFICIENT_DATA', (a) => alarmChange(a, { from: 'OK', to: 'INSUFFICIENT_DATA' }), 'INSUFFICIENT_DATA is no evidence: no automatic action'],
    ['ALARM → INSUFFICIENT_DATA', (a) => alarmChange(a, { from: 'ALARM', to: 'INSUFFICIENT_DATA' }), 'INSUFFICIENT_DATA is no evidence: no automatic action'],
  ];

  describe.each([
    { alarm: HALT_ALARM, kind: 'halt', subject: 'fleet' },
    { alarm: ROLLBACK_ALARM, kind: 'rollback', subject: 'order-gateway' },
    { alarm: NOTIFY_ALARM, kind: 'notify', subject: 'fleet' },
  ])('$kind alarm $alarm', ({ alarm, kind, subject }) => {
    it.each(unclassified)('refuses an event %s: recorded, not paged, nothing done', async (_label, event, why) => {
      const result = await route(event(alarm));

      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'rejected', why });
      expect(theRecord()).toMatchObject({ action: 'alarm.route', subject: 'fleet', reason: why, after: { decision: 'rejected', alarm } });
      expect(pages()).toEqual([]);
      expect(writes()).toEqual([AUDIT_FLEET]);
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
    });

    // A first evaluation, a recovery and INSUFFICIENT_DATA need no one: recorded, never paged.
    it.each(classified)('refuses %s: recorded, not paged, nothing done', async (_label, event, why) => {
      const result = await route(event(alarm));

      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'rejected', why });
      expect(theRecord()).toMatchObject({ action: 'alarm.route', subject, reason: why, after: { decision: 'rejected', alarm, kind } });
      expect(pages()).toEqual([]);
      expect(writes()).toEqual([`dynamodb TransactWriteItems audit subject#${subject}`]);
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
    });

    // Refusals that need no one: a replay (an operator's deliberate act), and stale news of no change into ALARM.
    it.each<[string, (alarm: string) => CloudWatchAlarmStateChange, string]>([
      ['replayed from an archive', (a) => alarmChange(a, { 'replay-name': 'replay-after-outage' }), 'replayed event (replay replay-after-outage)'],
      ['a stale recovery to OK', (a) => alarmChange(a, { from: 'ALARM', to: 'OK', time: '2025-07-05T11:20:30Z' }), 'stale event: 3600 s old, more than 300 s'],
      [
        'a stale INSUFFICIENT_DATA',
        (a) => alarmChange(a, { from: 'OK', to: 'INSUFFICIENT_DATA', time: '2025-07-05T11:20:30Z' }),
        'stale event: 3600 s old, more than 300 s',
      ],
    ])('refuses an event %s: recorded, not paged, nothing done', async (_label, event, why) => {
      const result = await route(event(alarm));

      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'rejected', why });
      expect(theRecord()).toMatchObject({ action: 'alarm.route', subject: 'fleet', reason: why, after: { decision: 'rejected', alarm } });
      expect(pages()).toEqual([]);
      expect(writes()).toEqual([AUDIT_FLEET]);
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
    });
  });

  it('records a first evaluation of an alarm the fleet file does not define without paging', async () => {
    const result = await route(alarmChange('prod-not-in-the-fleet', { from: 'INSUFFICIENT_DATA', to: 'OK' }));

    expect(result).toMatchObject({ decision: 'rejected', why: 'alarm not in the fleet file' });
    expect(theRecord()).toMatchObject({ subject: 'fleet', reason: 'alarm not in the fleet file' });
    expect(pages()).toEqual([]);
    expect(writes()).toEqual([AUDIT_FLEET]);
  });

  it('acts on an event exactly maxEventAgeSeconds old', async () => {
    await expect(route(alarmChange(HALT_ALARM, { time: '2025-07-05T12:15:30Z' }))).resolves.toMatchObject({ decision: 'halt-started' });
  });

  it('acts on an event dated exactly the clock skew ahead (60 s)', async () => {
    await expect(route(alarmChange(HALT_ALARM, { time: '2025-07-05T12:21:30Z' }))).resolves.toMatchObject({ decision: 'halt-started' });
  });

  it('follows the fleet file: a shorter maxEventAgeSeconds refuses a 30-second-old event', async () => {
    withGuardRails({ maxEventAgeSeconds: 20 });

    await expect(route(alarmChange(HALT_ALARM))).resolves.toMatchObject({ decision: 'rejected', why: 'stale event: 30 s old, more than 20 s' });
    expectNoAction();
  });

  it('refuses an event whose time cannot be read as stale', async () => {
    const result = await route(alarmChange(HALT_ALARM, { time: 'yesterday' }));

    expect(result).toMatchObject({ decision: 'rejected', why: expect.stringMatching(/^stale event: /) });
    expectNoAction();
  });

  it('an event into ALARM from INSUFFICIENT_DATA is a change into ALARM', async () => {
    await expect(route(alarmChange(HALT_ALARM, { from: 'INSUFFICIENT_DATA' }))).resolves.toMatchObject({ decision: 'halt-started' });
  });
});
