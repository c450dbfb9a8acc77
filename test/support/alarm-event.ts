/**
 * A `CloudWatch Alarm State Change` event built as CloudWatch emits it, for the
 * CLI-free paths that put one on the bus directly (tests, benchmarks).
 */
import type { Sandbox } from '../../lib/sandbox/sandbox';
import type { AwsEvent } from '../../lib/sandbox/simulated-eventbridge';

/** A `CloudWatch Alarm State Change` event as CloudWatch emits it for this sandbox's account, with fields to override. */
export function alarmEvent(
  sandbox: Sandbox,
  alarmName: string,
  change: { value?: string; previous?: string; reason?: string } = {},
  overrides: Partial<AwsEvent> = {},
): AwsEvent {
  const now = new Date(sandbox.clock.now());
  const timestamp = now.toISOString().replace('Z', '+0000');
  return {
    version: '0',
    id: sandbox.random.uuid(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: sandbox.context.account,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: sandbox.context.region,
    resources: [`arn:aws:cloudwatch:${sandbox.context.region}:${sandbox.context.account}:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: change.value ?? 'ALARM', reason: change.reason ?? 'Threshold Crossed (test)', timestamp },
      previousState: { value: change.previous ?? 'OK', reason: 'Threshold not crossed', timestamp },
      configuration: { metrics: [] },
    },
    ...overrides,
  };
}
