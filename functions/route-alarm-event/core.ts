/**
 * EventBridge target for CloudWatch alarm state changes: turns the right alarm
 * into the right action, never twice for one signal, never for a forged,
 * replayed, stale or ambiguous one.
 *
 * - rollback alarm → a soaking deploy of the service ends its soak (the deploy
 *   rolls itself back); a deploy still rolling out is left to ECS's deployment
 *   alarms; otherwise the rollback workflow, within cooldown and budget.
 * - halt alarm → the halt flag (the first write on this path), then the halt workflow.
 * - notify alarm → a page.
 * - scale alarm → the scale workflow, named from the event (a duplicate starts
 *   nothing), with the breach (metric − threshold) from the alarm's reasonData;
 *   cooldowns, bounds, halts and deployments are the scale workflow's to judge.
 * - anything else → no action: a recorded refusal, paged only when a person must
 *   act (a forged or unreadable event, or a change into ALARM nothing acts on).
 *   A first evaluation, a recovery, INSUFFICIENT_DATA and a replay are recorded only.
 *
 * A halt or rollback started here is paged once, by its workflow, with its outcome. An
 * alarm pages at most once per `paging.flapWindowMinutes`: the pages held back are
 * recorded and counted on the next page. Every decision records whether it paged and why.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { classifyAlarm, type AlarmClass } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { cloudWatchAlarmStateChangeSchema, type CloudWatchAlarmStateChange, untrustedEventReason } from '../shared/domain/aws-events';
import { isLeaseLive, readDeployLock } from '../shared/domain/deploy-lock';
import { eventExecutionName, isExecutionOf, startNamedExecution } from '../shared/domain/executions';
import { type Claim, claimCooldown, claimHourlyBudget, claimOnce, claimPageWindow, holdingClaims, releaseClaims } from '../shared/domain/guard-rails';
import { defineHandler, describeIssues, type HandlerDeps } from '../shared/runtime/handler';
import { setHaltFlag } from '../shared/domain/halt-flag';
import { heldBackNote, page } from '../shared/domain/paging';
import { breachFromReasonData } from '../shared/domain/scaling';
import { completeTask, soakWaitKey } from '../shared/domain/task-callbacks';

export type RoutingDecision =
  | 'rejected'
  | 'notified'
  | 'suppressed'
  | 'dry-run'
  | 'duplicate'
  | 'halt-started'
  | 'already-halted'
  | 'rollback-started'
  | 'delegated-to-deploy'
  | 'left-to-ecs'
  | 'scale-started';

export interface RoutingResult {
  readonly eventId: string;
  readonly alarmName?: string;
  readonly decision: RoutingDecision;
  readonly why: string;
  readonly executionArn?: string;
}

type RouterDeps = HandlerDeps<'dynamodb' | 'sfn' | 'sns' | 'ssm' | 'ecs'>;

/** Execution names from the event id: a duplicated event cannot start a second execution. */
export const executionNameForEvent = (eventId: string): string => eventExecutionName('alarm', eventId);
export const haltIdForEvent = (event: CloudWatchAlarmStateChange): string => `halt-${event.time.slice(0, 10).replace(/-/g, '')}-${event.id.slice(0, 8)}`;

export const routeAlarmEvent = defineHandler({
  name: 'route-alarm-event',
  description: "Turns a fleet alarm's state change into a rollback, a halt or a page, or records why it did not",
  clients: ['dynamodb', 'sfn', 'sns', 'ssm', 'ecs'],
  input: z.unknown(),
  core: async (raw, deps): Promise<RoutingResult> => {
    const rawId = typeof (raw as { id?: unknown } | null)?.id === 'string' ? (raw as { id: string }).id : 'unknown';
    const parsed = cloudWatchAlarmStateChangeSchema.safeParse(raw);
    if (!parsed.success) return decide(deps, { eventId: rawId, decision: 'rejected', why: `malformed event: ${describeIssues(parsed.error)}` });
    const event = parsed.data;
    const base = { eventId: event.id, alarmName: event.detail.alarmName };
    const { guardRails } = deps.fleet;

    // Checks that need no writes come first: on the halt path the flag must be the first write.
    const { value } = event.detail.state;
    // Only a change into ALARM can need a person; a first evaluation, a recovery or INSUFFICIENT_DATA is recorded only.
    const intoAlarm = value === 'ALARM' && event.detail.previousState.value !== 'ALARM';
    const untrusted = untrustedEventReason(event, { ...deps.config, maxEventAgeSeconds: guardRails.maxEventAgeSeconds });
    // Recorded, not paged: a forged, replayed or misdated event needs no person.
    if (untrusted) return decide(deps, { ...base, decision: 'rejected', why: untrusted }, undefined, 'an untrusted event');
    const alarm = classifyAlarm(deps.fleet, event.detail.alarmName);
    if (!alarm) {
      return decide(deps, { ...base, decision: 'rejected', why: 'alarm not in the fleet file' }, undefined, intoAlarm ? undefined : 'not a change into ALARM');
    }
    if (value === 'INSUFFICIENT_DATA') {
      return decide(deps, { ...base, decision: 'rejected', why: 'INSUFFICIENT_DATA is no evidence: no automatic action' }, alarm, 'INSUFFICIENT_DATA');
    }
    if (!intoAlarm) {
      const why = `not a change into ALARM (${event.detail.previousState.value} → ${value})`;
      return decide(deps, { ...base, decision: 'rejected', why }, alarm, 'not a change into ALARM');
    }
    const reason = `${event.detail.alarmName}: ${event.detail.state.reason}`.slice(0, 500);

    if (alarm.kind === 'notify') return decide(deps, { ...base, decision: 'notified', why: 'notify-only alarm' }, alarm);
    if (guardRails.automation === 'notify-only') {
      return decide(deps, { ...base, decision: 'suppressed', why: `automation is notify-only: would ${wouldDo(alarm)}` }, alarm);
    }
    if (guardRails.dryRun) {
      return decide(deps, { ...base, decision: 'dry-run', why: `dry run: would ${wouldDo(alarm)}` }, alarm);
    }
    if (alarm.kind === 'scale') return scale(deps, event, alarm, reason);
    return alarm.kind === 'halt' ? halt(deps, event, alarm, reason) : rollBack(deps, event, alarm, reason);
  },
});

const wouldDo = (alarm: Exclude<AlarmClass, { kind: 'notify' }>): string =>
  alarm.kind === 'halt' ? 'halt trading' : alarm.kind === 'scale' ? `${alarm.alarm.direction} ${alarm.service.id}` : `roll back ${alarm.service.id}`;

/**
 * A scaling alarm starts the scale workflow, once per event: the execution is named
 * from the event and the event is claimed first (StartExecution returns the running
 * execution for a repeated name and input, so only the claim tells a duplicate apart).
 */
async function scale(
  deps: RouterDeps,
  event: CloudWatchAlarmStateChange,
  alarm: Extract<AlarmClass, { kind: 'scale' }>,
  reason: string,
): Promise<RoutingResult> {
  const base = { eventId: event.id, alarmName: event.detail.alarmName };
  const eventClaim = await claimOnce(deps, `event#${event.id}`, event.id, { alarm: alarm.alarm.name });
  if (!eventClaim) return decide(deps, { ...base, decision: 'duplicate', why: 'this event already started a scaling decision' }, alarm);
  const breach = breachFromReasonData(event.detail.state.reasonData);
  const input = {
    service: alarm.service.id,
    alarm: alarm.alarm.name,
    direction: alarm.alarm.direction,
    ...(breach === undefined ? {} : { breach }),
    source: `alarm:${alarm.alarm.name}`,
    requestedBy: 'assure',
    reason,
    eventId: event.id,
  };
  const started = await holdingClaims(
    [eventClaim],
    () => startExecution(deps, deps.config.stateMachineArns.scale, executionNameForEvent(event.id), input),
    releaseFailed(deps),
  );
  if (!started) return decide(deps, { ...base, decision: 'duplicate', why: 'this event already started a scaling decision' }, alarm);
  const breachText = breach === undefined ? 'breach unknown (no reasonData)' : `breach ${breach}`;
  return decide(
    deps,
    { ...base, decision: 'scale-started', why: `${alarm.alarm.direction} ${alarm.service.id} (${breachText}): ${reason}`, executionArn: started },
    alarm,
  );
}

async function halt(deps: RouterDeps, event: CloudWatchAlarmStateChange, alarm: Extract<AlarmClass, { kind: 'halt' }>, reason: string): Promise<RoutingResult> {
  const base = { eventId: event.id, alarmName: event.detail.alarmName };
  const haltId = haltIdForEvent(event);
  const { flag, alreadyHalted, alreadyResumed } = await setHaltFlag(deps, {
    haltId,
    reason,
    source: `alarm:${alarm.alarm.name}`,
    actor: 'assure',
    services: alarm.services,
  });
  if (alreadyResumed) return decide(deps, { ...base, decision: 'duplicate', why: `this event's halt ${haltId} already ran and was resumed` }, alarm);
  if (alreadyHalted && flag.haltId !== haltId) {
    return decide(deps, { ...base, decision: 'already-halted', why: `trading is already halted (${flag.haltId ?? 'unknown'}: ${flag.reason ?? ''})` }, alarm);
  }
  // After the flag: StartExecution returns the running execution for a repeated name and input, so only a claim tells a duplicate apart.
  const eventClaim = await claimOnce(deps, `event#${event.id}`, event.id, { alarm: alarm.alarm.name });
  if (!eventClaim) return decide(deps, { ...base, decision: 'duplicate', why: `this event already started halt ${haltId}` }, alarm);
  const input = { haltId, reason, source: `alarm:${alarm.alarm.name}`, actor: 'assure', services: [...alarm.services] };
  const started = await holdingClaims(
    [eventClaim],
    () => startExecution(deps, deps.config.stateMachineArns.halt, executionNameForEvent(event.id), input),
    releaseFailed(deps),
  );
  if (!started) return decide(deps, { ...base, decision: 'duplicate', why: `this event already started halt ${haltId}` }, alarm);
  return decide(deps, { ...base, decision: 'halt-started', why: `halt ${haltId}: ${reason}`, executionArn: started }, alarm);
}

async function rollBack(
  deps: RouterDeps,
  event: CloudWatchAlarmStateChange,
  alarm: Extract<AlarmClass, { kind: 'rollback' }>,
  reason: string,
): Promise<RoutingResult> {
  const base = { eventId: event.id, alarmName: event.detail.alarmName };
  const claims: Claim[] = [];
  const eventClaim = await claimOnce(deps, `event#${event.id}`, event.id, { alarm: alarm.alarm.name });
  if (!eventClaim) return decide(deps, { ...base, decision: 'duplicate', why: 'this event was already routed' }, alarm);
  claims.push(eventClaim);
  // Any failure up to the start gives the claims back before EventBridge retries the event;
  // recording and paging the decision happen after, so their failure keeps the claims of a running rollback.
  const result = await holdingClaims(claims, () => decideRollback(deps, event, alarm, reason, claims), releaseFailed(deps));
  return decide(deps, result, alarm);
}

async function decideRollback(
  deps: RouterDeps,
  event: CloudWatchAlarmStateChange,
  alarm: Extract<AlarmClass, { kind: 'rollback' }>,
  reason: string,
  claims: Claim[],
): Promise<RoutingResult> {
  const base = { eventId: event.id, alarmName: event.detail.alarmName };
  const service = alarm.service;
  // A deploy of the service in progress owns its rollback: one automatic rollback per deployment.
  const soak = unmarshall(
    (
      await deps.clients.dynamodb.send(
        new GetItemCommand({ TableName: deps.config.callbackTableName, Key: marshall({ pk: soakWaitKey(service.id) }), ConsistentRead: true }),
      )
    ).Item ?? {},
  );
  if (typeof soak.taskToken === 'string') {
    const delivery = await completeTask(deps, soak.taskToken, {
      error: 'RollbackAlarmFiredError',
      cause: `${alarm.alarm.name} went into ALARM at ${event.detail.state.timestamp}: ${event.detail.state.reason}`,
    });
    if (delivery === 'delivered') return { ...base, decision: 'delegated-to-deploy', why: `ended the soak of ${service.id}'s deploy; it rolls itself back` };
  }
  const lock = await readDeployLock(deps, service.id);
  if (lock && isLeaseLive(lock, Date.now()) && isExecutionOf(deps.config.stateMachineArns.deploy, lock.owner)) {
    return { ...base, decision: 'left-to-ecs', why: `${service.id} is being deployed (${lock.owner}): ECS deployment alarms and the health gate handle it` };
  }
  // Guard-rail claims refused further down are given back: an action that never happened must not count.
  const guards: Claim[] = [];
  const refused = async (why: string): Promise<RoutingResult> => {
    await releaseClaims(guards, releaseFailed(deps));
    return { ...base, decision: 'suppressed', why };
  };
  const cooldownMinutes = deps.fleet.guardRails.serviceCooldownMinutes;
  const cooldown = await claimCooldown(deps, `rollback#${service.id}`, Date.now() + cooldownMinutes * 60_000, event.id, { alarm: alarm.alarm.name });
  if (!cooldown) return refused(`${service.id} is in its ${cooldownMinutes}-minute cooldown after an automatic action`);
  guards.push(cooldown);
  claims.push(cooldown);
  const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: deps.fleet.cluster, services: [service.ecsServiceName] }));
  const deploymentId = described.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id ?? 'unknown';
  const once = await claimOnce(deps, `auto-rollback#${service.id}#${deploymentId}`, event.id, { alarm: alarm.alarm.name });
  if (!once) return refused(`deployment ${deploymentId} of ${service.id} was already rolled back automatically once`);
  guards.push(once);
  claims.push(once);
  const budget = await claimHourlyBudget(deps, deps.fleet.guardRails.maxAutomatedActionsPerHour);
  if (!budget) return refused(`the budget of ${deps.fleet.guardRails.maxAutomatedActionsPerHour} automatic actions this hour is spent: a human must decide`);
  claims.push(budget);
  const input = { service: service.id, reason, source: `alarm:${alarm.alarm.name}`, requestedBy: 'assure' };
  const started = await startExecution(deps, deps.config.stateMachineArns.rollback, executionNameForEvent(event.id), input);
  if (!started) return { ...base, decision: 'duplicate', why: 'this event already started a rollback' };
  return { ...base, decision: 'rollback-started', why: `rolling back ${service.id}: ${reason}`, executionArn: started };
}

const releaseFailed =
  (deps: RouterDeps) =>
  (claim: Claim, error: unknown): void =>
    deps.logger.error('Could not release a guard-rail claim after a failure; it expires on its own', { claim: claim.key, error: error as Error });

/** Starts an execution named after the event; undefined when that name was already used (a duplicate). */
async function startExecution(deps: RouterDeps, stateMachineArn: string, name: string, input: object): Promise<string | undefined> {
  return (await startNamedExecution(deps, stateMachineArn, name, input))?.executionArn;
}

/** Decisions that page nobody, and why: a duplicate needs no one, and a workflow started here pages its own outcome once. */
const NO_PAGE: Partial<Record<RoutingDecision, string>> = {
  duplicate: 'a duplicate event',
  'delegated-to-deploy': 'the deploy pages its outcome',
  'scale-started': 'the scale workflow pages',
  'halt-started': 'the halt workflow pages its outcome',
  'rollback-started': 'the rollback workflow pages its outcome',
};

/**
 * Records the decision and whether it paged, and why, then pages when a person must act:
 * not when `quiet` says why not or the decision pages nobody, once per event, and once per
 * flap window per alarm (the next page counts those held back in between).
 */
async function decide(deps: RouterDeps, result: RoutingResult, alarm?: AlarmClass, quiet?: string): Promise<RoutingResult> {
  const record = async (page: 'sent' | 'held back' | 'not needed', pageWhy: string, heldBack?: number): Promise<RoutingResult> => {
    await writeAuditRecord(deps, {
      action: 'alarm.route',
      subject: alarm?.kind === 'rollback' || alarm?.kind === 'scale' ? alarm.service.id : 'fleet',
      actor: 'assure',
      source: `eventbridge:${result.eventId}`,
      executionId: result.executionArn ?? `event:${result.eventId}`,
      reason: result.why,
      phase: 'outcome',
      status: 'succeeded',
      at: new Date().toISOString(),
      after: { decision: result.decision, alarm: result.alarmName, kind: alarm?.kind, page, pageWhy, heldBack },
    });
    deps.logger.info('Alarm routed', { ...result, page });
    return result;
  };
  const noPage = quiet ?? NO_PAGE[result.decision];
  if (noPage) return record('not needed', noPage);
  // One page per event: EventBridge may deliver it again, and a refusal or a notice takes no other claim.
  const known = result.eventId !== 'unknown';
  const pageClaim = known ? await claimOnce(deps, `page#${result.eventId}`, result.eventId, result.alarmName ? { alarm: result.alarmName } : {}, 1) : undefined;
  if (known && !pageClaim) return record('not needed', 'paged already');
  const claims = pageClaim ? [pageClaim] : [];
  const minutes = deps.fleet.paging.flapWindowMinutes;
  const name = result.alarmName ?? 'alarm event';
  // A failed record or page gives the claims back, so the event's retry pages.
  return holdingClaims(
    claims,
    async () => {
      const window = await claimPageWindow(deps, `alarm#${name}`, minutes * 60_000, result.eventId);
      const note = window.heldBack > 0 ? heldBackNote(window.heldBack, window.since) : '';
      if (!window.claim) return record('held back', `flapping: paged at ${window.since}, at most once per ${minutes} minutes`, window.heldBack);
      claims.push(window.claim);
      await record('sent', note ? `held back ${note}` : 'a person must act', window.heldBack || undefined);
      const held = note && `\n${name} also paged ${note}: held back by the ${minutes}-minute flap window, in the audit trail.`;
      const message = `${result.why}${held}\n\nEvent ${result.eventId}${result.executionArn ? `\nExecution ${result.executionArn}` : ''}`;
      await page(deps, `${name}: ${result.decision}${note && ` ${note}`}`, message);
      return result;
    },
    releaseFailed(deps),
  );
}
