/** How route-alarm-event names the executions it starts (one per event). */
import { describe, expect, it } from 'vitest';
import { executionNameForEvent } from '../../../../functions/route-alarm-event/core';
import { EVENT_ID, EXECUTION_NAME } from './support';

describe('executionNameForEvent', () => {
  it('names the execution alarm-<event id>, so a duplicated event cannot start a second one', () => {
    expect(executionNameForEvent(EVENT_ID)).toBe(EXECUTION_NAME);
  });

  it('keeps to the characters and length Step Functions allows', () => {
    expect(executionNameForEvent('a:b/c d')).toBe('alarm-a-b-c-d');
    expect(executionNameForEvent('x'.repeat(100))).toBe(`alarm-${'x'.repeat(74)}`);
  });
});
