/**
 * Workflows and event routes as data. The CDK stack and the sandbox both build
 * from these specs (through provisioning.ts), so the two cannot drift apart.
 */
import type { HandlerDefinition } from '../../functions/shared/runtime/handler';
import type { AssureConfig } from '../../functions/shared/runtime/config';
import type { EventPattern } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import type { AccountContext, WorkflowName } from '../naming';

/** A handler definition of any input, output and client set. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous registry of handlers
export type AnyHandlerDefinition = HandlerDefinition<any, any, any>;

export interface WorkflowRuleSpec {
  readonly id: string;
  readonly description: string;
  readonly pattern: (fleet: Fleet, context: AccountContext) => EventPattern;
  /** Key of the function the rule invokes. */
  readonly target: string;
  /** Whether the fleet needs the rule (EventBridge refuses a pattern with an empty list). @default - always */
  readonly appliesTo?: (fleet: Fleet) => boolean;
}

/** A state machine, the functions its ASL names, and the functions and rules that serve it. */
export interface WorkflowSpec {
  readonly kind: 'workflow';
  readonly name: WorkflowName;
  /** The state machine's ASL file in state-machines/. */
  readonly aslFile: string;
  /** Placeholders that are not function ARNs (topics, other state machines), from the configuration. */
  readonly substitutions?: (config: AssureConfig) => Readonly<Record<string, string>>;
  /** Functions the ASL names: placeholder `${<Key>FunctionArn}` → handler. */
  readonly functions: Readonly<Record<string, AnyHandlerDefinition>>;
  /** Functions the ASL does not name: EventBridge targets, or invoked by people (approvals) or by AWS (rotation). */
  readonly standaloneFunctions: Readonly<Record<string, AnyHandlerDefinition>>;
  readonly rules: readonly WorkflowRuleSpec[];
}

export const EVENT_ROUTE_NAMES = ['alarm-routing', 'audit-archive'] as const;
export type EventRouteName = (typeof EVENT_ROUTE_NAMES)[number];

/** Events routed straight to functions, with no state machine of their own (alarm routing; the audit table's stream). */
export interface EventRouteSpec {
  readonly kind: 'event-route';
  readonly name: EventRouteName;
  /** The functions the rules invoke. */
  readonly functions: Readonly<Record<string, AnyHandlerDefinition>>;
  readonly rules: readonly WorkflowRuleSpec[];
}

/** Either kind: what owns functions and rules. */
export type ResourceGroupSpec = WorkflowSpec | EventRouteSpec;

/** The rules a workflow or route has for this fleet. */
export const rulesFor = (spec: ResourceGroupSpec, fleet: Fleet): readonly WorkflowRuleSpec[] => spec.rules.filter((rule) => rule.appliesTo?.(fleet) ?? true);

export const functionArnPlaceholder = (key: string): string => `${key}FunctionArn`;

/** Every function of a workflow or route, keyed as in the spec. */
export const allFunctions = (spec: ResourceGroupSpec): [string, AnyHandlerDefinition][] =>
  spec.kind === 'workflow' ? [...Object.entries(spec.functions), ...Object.entries(spec.standaloneFunctions)] : Object.entries(spec.functions);

/** The handler entry file CDK bundles for a definition. */
export const handlerEntry = (definition: AnyHandlerDefinition): string => `functions/${definition.name}/index.ts`;
