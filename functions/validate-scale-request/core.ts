/**
 * First state of the scale workflow: checks a manual, alarm or scheduled scale
 * request against the fleet file (a refusal is recorded and its message names
 * the field) and resolves the service's scaling policy into the plan.
 */
import * as z from 'zod';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { requestValidation } from '../shared/domain/request-validation';
import { defineHandler } from '../shared/runtime/handler';
import { type ScalePlan, scaleRequestSchema, stepsOf } from '../shared/domain/scaling';

export const validateScaleRequest = defineHandler({
  name: 'validate-scale-request',
  description: 'Validates a scale request (manual, alarm or scheduled) against the fleet file and resolves the scaling plan',
  clients: ['dynamodb'],
  input: z.object({ executionId: executionIdSchema, request: z.unknown() }),
  core: async ({ executionId, request }, deps): Promise<{ plan: ScalePlan; decision: null; applied: null; failure: null }> => {
    const validation = requestValidation(deps, 'scale', { executionId, request });
    const r = await validation.parse(scaleRequestSchema);
    const service = await validation.service(r.service);
    const invalid = (field: string, reason: string): Promise<never> => validation.refuse({ subject: service.id, field, reason });
    const scaling = service.scaling;
    if (!scaling) {
      const scalable = Object.values(deps.fleet.services)
        .filter((s) => s.scaling)
        .map((s) => s.id);
      return invalid('service', `${r.service} has no scaling policy in the fleet file (services that scale: ${scalable.join(', ') || 'none'})`);
    }
    const kind = r.source.startsWith('alarm:') ? 'alarm' : r.source.startsWith('schedule:') ? 'schedule' : 'manual';
    let alarmName: string | null = null;
    if (kind === 'alarm') {
      alarmName = r.source.slice('alarm:'.length);
      const alarm = scaling.alarms.find((a) => a.name === alarmName);
      if (!alarm) return invalid('source', `${alarmName} is not a scaling alarm of ${r.service}`);
      if (r.alarm !== undefined && r.alarm !== alarmName) return invalid('alarm', `must match the source (${alarmName})`);
      if (r.direction === undefined) return invalid('direction', 'is required for an alarm-driven request (scale-out or scale-in)');
      if (r.direction !== alarm.direction) return invalid('direction', `${alarmName} scales ${alarm.direction}, not ${r.direction}`);
      if (r.desiredCount !== undefined) return invalid('desiredCount', 'an alarm-driven request scales by its step adjustment, not to a count');
    } else {
      if (r.desiredCount === undefined) return invalid('desiredCount', 'is required (the task count to set)');
      for (const field of ['direction', 'breach', 'alarm'] as const) {
        if (r[field] !== undefined) return invalid(field, 'only an alarm-driven request (source alarm:<name>) has it');
      }
      if (kind === 'schedule') {
        const name = r.source.slice('schedule:'.length);
        if (!scaling.schedule.some((s) => s.name === name)) return invalid('source', `${name} is not a scheduled capacity entry of ${r.service}`);
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
      reason:
        r.reason ??
        (kind === 'alarm' ? `${alarmName ?? 'alarm'} went into ALARM` : kind === 'schedule' ? `scheduled capacity ${r.source.slice(9)}` : 'manual scaling'),
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
