/**
 * The default event bus: rules with event patterns, targets with input
 * transformers, delivery after a short latency. AWS services emit onto it
 * directly; callers use PutEvents, which refuses `aws.*` sources per entry.
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
  readonly error?: string;
}

/** `rule`: the source of the delivery (the target's permissions name it). */
export type TargetDispatcher = (target: RuleTarget, input: unknown, event: AwsEvent, rule: Rule) => Promise<void>;

/** Typical delivery latency from an event being put to its targets being invoked. */
export const EVENT_DELIVERY_LATENCY_MS = 500;

export class SimulatedEventBridge implements SimulatedService {
  private readonly rules = new Map<string, Rule>();
  readonly deliveries: Delivery[] = [];
  readonly events: AwsEvent[] = [];
  private readonly listeners: ((event: AwsEvent) => void)[] = [];

  constructor(
    private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom },
    private readonly dispatch: TargetDispatcher,
    private readonly latencyMs = EVENT_DELIVERY_LATENCY_MS,
  ) {}

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
      for (const target of rule.targets) {
        setTimeout(() => void this.deliver(rule, target, event), this.latencyMs);
      }
    }
  }

  private async deliver(rule: Rule, target: RuleTarget, event: AwsEvent): Promise<void> {
    const record = { at: Date.now(), rule: rule.name, target: target.id, eventId: event.id, detailType: event['detail-type'] };
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
      throw new SimulatedAwsError('ValidationException', '1 validation error detected: Value at \'entries\' failed to satisfy constraint: Member must have length between 1 and 10');
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
    const values = Object.fromEntries(
      Object.entries(target.inputTransformer.inputPathsMap).map(([name, path]) => [name, readPath(event, path)]),
    );
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
