/** The scale workflow as data: its ASL file and the functions its placeholders name. */
import { applyScalingDecision } from '../../functions/apply-scaling-decision/core';
import { decideScalingHandler } from '../../functions/decide-scaling/core';
import { recordScalingOutcome } from '../../functions/record-scaling-outcome/core';
import { validateScaleRequest } from '../../functions/validate-scale-request/core';
import type { Fleet } from '../fleet/fleet';
import { scaleScheduleName } from '../naming';
import type { WorkflowSpec } from './workflow-spec';

export const scaleWorkflow = {
  kind: 'workflow',
  name: 'scale',
  aslFile: 'scale.asl.json',
  functions: {
    ValidateScaleRequest: validateScaleRequest,
    DecideScaling: decideScalingHandler,
    ApplyScalingDecision: applyScalingDecision,
    RecordScalingOutcome: recordScalingOutcome,
  },
  standaloneFunctions: {},
  rules: [],
} as const satisfies WorkflowSpec;

/** One EventBridge Scheduler schedule per scheduled-capacity entry: the CDK stack and the sandbox create the same ones. */
export interface ScaleSchedule {
  /** Scheduler's schedule name: `assure-<env>-scale-<service>-<entry>` (at most 64 characters). */
  readonly name: string;
  readonly service: string;
  readonly entry: string;
  readonly scheduleExpression: string;
  readonly timeZone: string;
  readonly desired: number;
  /** The scale state machine's documented scheduled input. */
  readonly input: { readonly service: string; readonly desiredCount: number; readonly source: string; readonly requestedBy: 'scheduler' };
}

export function scaleSchedules(fleet: Fleet): ScaleSchedule[] {
  return Object.values(fleet.services).flatMap((service) =>
    (service.scaling?.schedule ?? []).map((entry) => ({
      name: scaleScheduleName(fleet.environment, service.id, entry.name),
      service: service.id,
      entry: entry.name,
      scheduleExpression: entry.schedule,
      timeZone: entry.timeZone,
      desired: entry.desired,
      input: { service: service.id, desiredCount: entry.desired, source: `schedule:${entry.name}`, requestedBy: 'scheduler' as const },
    })),
  );
}
