/**
 * The default event bus: rules with event patterns, targets with input
 * transformers, delivery after a short latency. AWS services emit onto it
 * directly; callers use PutEvents, which refuses `aws.*` sources per entry.
 *
 * Delivery is configurable. By default each matching target gets each event
 * once, in order, after a fixed latency: quick and easy to read. EventBridge
 * itself promises less (at least once, in no particular order), and a
 * delivery configuration makes the bus deliver as it may: latencies drawn
 * from a range, the same event (same id) again to the same target, and
 * events put close together arriving in another order. Every draw comes from
 * the account's seeded random, so a run is reproducible per seed.
 */
import { SimulatedAwsError } from './aws-error';
import type { SeededRandom } from './deterministic';
import { type EventPattern, matchesEventPattern, validateEventPattern } from './event-pattern';
import type { SimulatedService } from './sdk-transport';

export interface AwsEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
  readonly 'replay-name'?: string;
}

export interface RuleTarget {
  readonly id: string;
  readonly arn: string;
  /** A constant JSON input instead of the event. */
  readonly input?: string;
  readonly inputPath?: string;
  readonly inputTransformer?: { readonly inputPathsMap: Readonly<Record<string, string>>; readonly inputTemplate: string };
}

export interface Rule {
  readonly name: string;
  readonly arn: string;
  readonly eventPattern: EventPattern;
  readonly targets: readonly RuleTarget[];
}

export interface Delivery {
  readonly at: number;
  readonly rule: string;
  readonly target: string;
  readonly eventId: string;
  readonly detailType: string;
  /** A repeated delivery of an event this target already received (at-least-once). */
  readonly duplicate?: true;
  readonly error?: string;
}

/** `rule`: the source of the delivery (the target's permissions name it). */
export type TargetDispatcher = (target: RuleTarget, input: unknown, event: AwsEvent, rule: Rule) => Promise<void>;

/** Typical delivery latency from an event being put to its targets being invoked. */
export const EVENT_DELIVERY_LATENCY_MS = 500;

/** How the bus delivers matching events to rule targets. */
export interface EventDeliveryOptions {
  /** From an event being put to a target's invocation: a fixed time, or drawn uniformly from [min, max]. */
  readonly latencyMs?: number | { readonly min: number; readonly max: number };
  /** The chance, per event and target, that the target receives the event a second time (same id). */
  readonly duplicateProbability?: number;
  /** A duplicate arrives after the first delivery, up to this much later. */
  readonly duplicateWindowMs?: number;
  /** Each delivery is held back a further [0, window) ms, so events put this close together may arrive in either order. */
  readonly reorderWindowMs?: number;
}

export interface EventDelivery {
  readonly latencyMs: { readonly min: number; readonly max: number };
  readonly duplicateProbability: number;
  readonly duplicateWindowMs: number;
  readonly reorderWindowMs: number;
}

/** Once, in order, after EVENT_DELIVERY_LATENCY_MS: the quick default. */
export const EXACTLY_ONCE_IN_ORDER: EventDeliveryOptions = { latencyMs: EVENT_DELIVERY_LATENCY_MS };

/**
 * What EventBridge promises and no more: at least once, in no particular order.
 * A third of deliveries are repeated within 30 s (as a retry after a lost
 * acknowledgement would), and events put within 3 s of each other may swap.
 */
export const AT_LEAST_ONCE_UNORDERED: EventDeliveryOptions = {
  latencyMs: { min: 100, max: 1_500 },
  duplicateProbability: 0.3,
  duplicateWindowMs: 30_000,
  reorderWindowMs: 3_000,
};

/** Fills in defaults and refuses a configuration no bus could have. */
export function resolveEventDelivery(options: EventDeliveryOptions = {}): EventDelivery {
  const latency = options.latencyMs ?? EVENT_DELIVERY_LATENCY_MS;
  const latencyMs = typeof latency === 'number' ? { min: latency, max: latency } : latency;
  const delivery: EventDelivery = {
    latencyMs,
    duplicateProbability: options.duplicateProbability ?? 0,
    duplicateWindowMs: options.duplicateWindowMs ?? 0,
    reorderWindowMs: options.reorderWindowMs ?? 0,
  };
  const problems = [
    !(Number.isFinite(latencyMs.min) && Number.isFinite(latencyMs.max) && latencyMs.min >= 0 && latencyMs.max >= latencyMs.min) &&
      `latencyMs must be a range 0 <= min <= max (got ${JSON.stringify(latency)})`,
    !(delivery.duplicateProbability >= 0 && delivery.duplicateProbability <= 1) &&
      `duplicateProbability must be within [0, 1] (got ${delivery.duplicateProbability})`,
    !(delivery.duplicateWindowMs >= 0) && `duplicateWindowMs must not be negative (got ${delivery.duplicateWindowMs})`,
    delivery.duplicateProbability > 0 && delivery.duplicateWindowMs === 0 && 'duplicateWindowMs must be positive when duplicateProbability is',
    !(delivery.reorderWindowMs >= 0) && `reorderWindowMs must not be negative (got ${delivery.reorderWindowMs})`,
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new Error(`Invalid event delivery: ${problems.join('; ')}`);
  return delivery;
}

export class SimulatedEventBridge implements SimulatedService {
  private readonly rules = new Map<string, Rule>();
  readonly deliveries: Delivery[] = [];
  readonly events: AwsEvent[] = [];
  private readonly listeners: ((event: AwsEvent) => void)[] = [];
  private pending = 0;
  readonly delivery: EventDelivery;

  constructor(
    private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom },
    private readonly dispatch: TargetDispatcher,
    /** The delivery configuration, or just a fixed latency in ms. */
    delivery: EventDeliveryOptions | number = EXACTLY_ONCE_IN_ORDER,
  ) {
    this.delivery = resolveEventDelivery(typeof delivery === 'number' ? { latencyMs: delivery } : delivery);
  }

  /** Deliveries scheduled and not yet made (duplicates included). */
  get pendingDeliveries(): number {
    return this.pending;
  }

  /** The longest a first delivery can take: tests bound "within one event delivery" with it. */
  get maxDeliveryDelayMs(): number {
    return this.delivery.latencyMs.max + this.delivery.reorderWindowMs;
  }

  putRule(name: string, eventPattern: EventPattern, targets: readonly RuleTarget[]): Rule {
    validateEventPattern(eventPattern);
    const rule: Rule = { name, arn: `arn:aws:events:${this.context.region}:${this.context.account}:rule/${name}`, eventPattern, targets };
    this.rules.set(name, rule);
    return rule;
  }

  listRules(): Rule[] {
    return [...this.rules.values()];
  }

  /** Observes every event put on the bus (for the CLI's progress output and for tests). */
  onEvent(listener: (event: AwsEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** An AWS service emitting an event (source `aws.*`), as the real service would. */
  emit(event: { source: string; detailType: string; resources: readonly string[]; detail: Record<string, unknown>; time?: string }): AwsEvent {
    const envelope: AwsEvent = {
      version: '0',
      id: this.context.random.uuid(),
      'detail-type': event.detailType,
      source: event.source,
      account: this.context.account,
      time: (event.time ?? new Date().toISOString()).replace(/\.\d{3}Z$/, 'Z'),
      region: this.context.region,
      resources: event.resources,
      detail: event.detail,
    };
    this.put(envelope);
    return envelope;
  }

  /** Puts a complete event envelope on the bus (used to replay recorded events). */
  put(event: AwsEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    const matching = [...this.rules.values()].filter((rule) => matchesEventPattern(rule.eventPattern, event));
    for (const rule of matching) {
      for (const target of rule.targets) this.schedule(rule, target, event);
    }
  }

  /**
   * Schedules one target's delivery of an event, and perhaps a duplicate. Draws
   * from the seeded random only for what the configuration varies, so the
   * default delivery leaves the account's random sequence as it was.
   */
  private schedule(rule: Rule, target: RuleTarget, event: AwsEvent): void {
    const { latencyMs, reorderWindowMs, duplicateProbability, duplicateWindowMs } = this.delivery;
    const random = this.context.random;
    const latency = latencyMs.max > latencyMs.min ? latencyMs.min + Math.floor(random.next() * (latencyMs.max - latencyMs.min + 1)) : latencyMs.min;
    const first = latency + (reorderWindowMs > 0 ? Math.floor(random.next() * reorderWindowMs) : 0);
    this.deliverAfter(first, rule, target, event, false);
    if (duplicateProbability > 0 && random.next() < duplicateProbability) {
      // Later than the first delivery, never before it: a retry follows the attempt it repeats.
      this.deliverAfter(first + 1 + Math.floor(random.next() * duplicateWindowMs), rule, target, event, true);
    }
  }

  private deliverAfter(delayMs: number, rule: Rule, target: RuleTarget, event: AwsEvent, duplicate: boolean): void {
    this.pending += 1;
    setTimeout(() => {
      void this.deliver(rule, target, event, duplicate).finally(() => {
        this.pending -= 1;
      });
    }, delayMs);
  }

  private async deliver(rule: Rule, target: RuleTarget, event: AwsEvent, duplicate: boolean): Promise<void> {
    const record: Delivery = {
      at: Date.now(),
      rule: rule.name,
      target: target.id,
      eventId: event.id,
      detailType: event['detail-type'],
      ...(duplicate ? { duplicate: true as const } : {}),
    };
    try {
      await this.dispatch(target, transformInput(target, event), event, rule);
      this.deliveries.push(record);
    } catch (error) {
      this.deliveries.push({ ...record, error: (error as Error).message });
    }
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    if (operation !== 'PutEvents') throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement EventBridge ${operation}`);
    const entries = (input.Entries ?? []) as { Source?: string; DetailType?: string; Detail?: string; Resources?: string[]; Time?: Date }[];
    if (entries.length === 0 || entries.length > 10) {
      throw new SimulatedAwsError(
        'ValidationException',
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    const results = entries.map((entry) => {
      if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source, DetailType and Detail are required.' };
      }
      if (entry.Source.startsWith('aws.')) {
        return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'The JSON provided is not valid.' };
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'The JSON provided is not valid.' };
      }
      const event = this.emit({
        source: entry.Source,
        detailType: entry.DetailType,
        resources: entry.Resources ?? [],
        detail: detail as Record<string, unknown>,
        ...(entry.Time ? { time: new Date(entry.Time).toISOString() } : {}),
      });
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }
}

/** EventBridge's input options: constant input, InputPath, or an input transformer. */
export function transformInput(target: RuleTarget, event: AwsEvent): unknown {
  if (target.input !== undefined) return JSON.parse(target.input) as unknown;
  if (target.inputPath !== undefined) return readPath(event, target.inputPath);
  if (target.inputTransformer) {
    const values = Object.fromEntries(Object.entries(target.inputTransformer.inputPathsMap).map(([name, path]) => [name, readPath(event, path)]));
    const rendered = target.inputTransformer.inputTemplate.replace(/<([\w.-]+)>/g, (match, name: string) => {
      if (!(name in values)) return match;
      const value = values[name];
      return typeof value === 'string' ? value : JSON.stringify(value ?? null);
    });
    try {
      return JSON.parse(rendered) as unknown;
    } catch {
      return rendered;
    }
  }
  return event;
}

function readPath(root: unknown, path: string): unknown {
  if (path === '$') return root;
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined), root);
}
