/**
 * CloudWatch alarm evaluation with missing data, held to the tables of the
 * CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing data"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html;
 * earlier published as the "How alarm state is evaluated when data is missing"
 * section of "Using Amazon CloudWatch alarms", AlarmThatSendsEmail.html).
 *
 * Datapoints are written as the guide writes them: oldest first, 0 not
 * breaching, X breaching, - missing. The evaluation range is 5, N = 3.
 */
import { describe, expect, it } from 'vitest';
import {
  type AlarmState,
  type PeriodOutcome,
  type TreatMissingData,
  evaluateAlarm,
  evaluationRangeLength,
} from '../../lib/sandbox/cloudwatch/alarm-evaluation';

type Expected = AlarmState | 'Retain current state';

const parse = (row: string): PeriodOutcome[] => row.split(' ').map((c) => (c === 'X' ? true : c === '0' ? false : undefined));

/** The guide's columns, in its order: MISSING, IGNORE, BREACHING, NOT BREACHING. */
const COLUMNS: readonly TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

/** The state per column; `undefined` (keep the current state) is the guide's "Retain current state". */
function outcomes(row: string, datapointsToAlarm: number): Expected[] {
  return COLUMNS.map((treatMissingData) => {
    const { state } = evaluateAlarm(parse(row), { evaluationPeriods: 3, datapointsToAlarm, treatMissingData });
    return state === undefined ? 'Retain current state' : state;
  });
}

describe('CloudWatch alarm evaluation (User Guide: Configuring how CloudWatch alarms treat missing data)', () => {
  it('retrieves a wider evaluation range than Evaluation Periods: 5 for 3, as in the guide', () => {
    expect(evaluationRangeLength(3)).toBe(5);
  });

  // The first table: Datapoints to Alarm and Evaluation Periods both 3.
  const threeOfThree: [string, number, Expected[]][] = [
    ['0 - X - X', 0, ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', 2, ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', 3, ['INSUFFICIENT_DATA', 'Retain current state', 'ALARM', 'OK']],
    ['0 X X - X', 0, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - X - -', 2, ['ALARM', 'Retain current state', 'ALARM', 'OK']],
  ];
  it.each(threeOfThree)('3 out of 3: %s (%i to fill) → MISSING, IGNORE, BREACHING, NOT BREACHING = %j', (row, toFill, expected) => {
    expect(outcomes(row, 3)).toEqual(expected);
    expect(evaluateAlarm(parse(row), { evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'breaching' }).filled).toBe(toFill);
  });

  // The second table: Datapoints to Alarm 2 of Evaluation Periods 3 (an M out of N alarm).
  const twoOfThree: [string, number, Expected[]][] = [
    ['0 - X - X', 0, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', 0, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', 1, ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', 2, ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - X -', 2, ['ALARM', 'Retain current state', 'ALARM', 'OK']],
  ];
  it.each(twoOfThree)('2 out of 3: %s (%i missing) → MISSING, IGNORE, BREACHING, NOT BREACHING = %j', (row, missing, expected) => {
    expect(outcomes(row, 2)).toEqual(expected);
    expect(evaluateAlarm(parse(row), { evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: 'breaching' }).filled).toBe(missing);
  });

  // The guide's earlier edition of the first table had two rows the current one dropped.
  const earlierEdition: [string, Expected[]][] = [
    ['- - - - X', ['INSUFFICIENT_DATA', 'Retain current state', 'ALARM', 'OK']],
    ['X - - - -', ['ALARM', 'Retain current state', 'ALARM', 'OK']],
  ];
  it.each(earlierEdition)('3 out of 3, earlier edition: %s → %j', (row, expected) => {
    expect(outcomes(row, 3)).toEqual(expected);
  });
  it('2 out of 3, earlier edition: - - - - X → INSUFFICIENT_DATA, Retain current state, ALARM, OK', () => {
    expect(outcomes('- - - - X', 2)).toEqual(['INSUFFICIENT_DATA', 'Retain current state', 'ALARM', 'OK']);
  });

  it('avoids premature ALARM: - - - X - and - - - - X do not alarm a 3 of 3 alarm, - - X - - does ("Avoiding premature transitions to alarm state")', () => {
    const missing = { evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'missing' } as const;
    expect(evaluateAlarm(parse('- - - X -'), missing).state).not.toBe('ALARM');
    expect(evaluateAlarm(parse('- - - - X'), missing).state).not.toBe('ALARM');
    expect(evaluateAlarm(parse('- - X - -'), missing)).toMatchObject({ state: 'ALARM', rule: 'premature-alarm' });
    // The next datapoint non-breaching: OK, the false positive avoided.
    expect(evaluateAlarm(parse('- - - X 0'), missing).state).toBe('OK');
  });

  it('evaluates the most recent N real datapoints when the range holds enough, skipping missing periods (row 0 X X - X)', () => {
    const evaluation = evaluateAlarm(parse('0 X X - X'), { evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'missing' });
    expect(evaluation).toMatchObject({ state: 'ALARM', evaluated: [1, 2, 4], filled: 0, breaching: 3 });
  });
});
