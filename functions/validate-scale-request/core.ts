/**
 * First state of the scale workflow: checks a manual, alarm or scheduled scale
 * request against the fleet file (the message names the field) and resolves the
 * service's scaling policy into the plan.
 */
import * as z from 'zod';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { InvalidScaleRequestError } from '../shared/runtime/errors';
import { defineHandler, describeIssues } from '../shared/runtime/handler';
import { type ScalePlan, scaleRequestSchema, stepsOf } from '../shared/domain/scaling';

const invalid = (field: string, why: string): InvalidScaleRequestError => new InvalidScaleRequestError(`Invalid scale request: ${field}: ${why}`);

export const validateScaleRequest = defineHandler({
  name: 'validate-scale-request',
  description: 'Validates a scale request (manual, alarm or scheduled) against the fleet file and resolves the scaling plan',
  clients: [],
  input: z.object({ executionId: executionIdSchema, request: z.unknown() }),
  core: async ({ request }, deps): Promise<{ plan: ScalePlan; decision: null; applied: null; failure: null }> => {
    const parsed = scaleRequestSchema.safeParse(request);
    if (!parsed.success) throw new InvalidScaleRequestError(`Invalid scale request: ${describeIssues(parsed.error)}`);
    const r = parsed.data;
    const service = deps.fleet.services[r.service];
    if (!service) throw invalid('service', `${r.service} is not in the ${deps.fleet.environment} fleet (known: ${Object.keys(deps.fleet.services).join(', ')})`);
    const scaling = service.scaling;
    if (!scaling) {
      const scalable = Object.values(deps.fleet.services).filter((s) => s.scaling).map((s) => s.id);
      throw invalid('service', `${r.service} has no scaling policy in the fleet file (services that scale: ${scalable.join(', ') || 'none'})`);
    }
    const kind = r.source.startsWith('alarm:') ? 'alarm' : r.source.startsWith('schedule:') ? 'schedule' : 'manual';
    let alarmName: string | null = null;
    if (kind === 'alarm') {
      alarmName = r.source.slice('alarm:'.length);
      const alarm = scaling.alarms.find((a) => a.name === alarmName);
      if (!alarm) throw invalid('source', `${alarmName} is not a scaling alarm of ${r.service}`);
      if (r.alarm !== undefined && r.alarm !== alarmName) throw invalid('alarm', `must match the source (${alarmName})`);
      if (r.direction === undefined) throw invalid('direction', 'is required for an alarm-driven request (scale-out or scale-in)');
      if (r.direction !== alarm.direction) throw invalid('direction', `${alarmName} scales ${alarm.direction}, not ${r.direction}`);
      if (r.desiredCount !== undefined) throw invalid('desiredCount', 'an alarm-driven request scales by its step adjustment, not to a count');
    } else {
      if (r.desiredCount === undefined) throw invalid('desiredCount', 'is required (the task count to set)');
      for (const field of ['direction', 'breach', 'alarm'] as const) {
        if (r[field] !== undefined) throw invalid(field, 'only an alarm-driven request (source alarm:<name>) has it');
      }
      if (kind === 'schedule') {
        const name = r.source.slice('schedule:'.length);
        if (!scaling.schedule.some((s) => s.name === name)) throw invalid('source', `${name} is not a scheduled capacity entry of ${r.service}`);
      }
    }
    const alarm = scaling.alarms.find((a) => a.name === alarmName);
    const plan: ScalePlan = {
      service: service.id,
      cluster: deps.fleet.cluster,
      ecsServiceName: service.ecsServiceName,
      kind,
      source: r.source,
      requestedBy: r.requestedBy,
      reason: r.reason ?? (kind === 'alarm' ? `${alarmName ?? 'alarm'} went into ALARM` : kind === 'schedule' ? `scheduled capacity ${r.source.slice(9)}` : 'manual scaling'),
      eventId: r.eventId ?? null,
      desiredCount: r.desiredCount ?? null,
      direction: r.direction ?? null,
      breach: r.breach ?? null,
      alarm: alarmName,
      steps: stepsOf(alarm),
      capacity: { min: service.capacity.min, max: service.capacity.max },
      cooldownSeconds: { 'scale-out': scaling.scaleOutCooldownSeconds, 'scale-in': scaling.scaleInCooldownSeconds },
      scaleOutWhileHalted: scaling.scaleOutWhileHalted,
    };
    // Every key later states read exists from here on.
    return { plan, decision: null, applied: null, failure: null };
  },
});
