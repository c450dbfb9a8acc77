import type { HandlerDefinition } from '../../functions/shared/runtime/handler';
import type { EventPattern } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import type { AssureConfig } from '../../functions/shared/runtime/config';
import type { AccountContext, WorkflowName } from '../naming';

/** A handler definition of any input, output and client set. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous registry of handlers
export type AnyHandlerDefinition = HandlerDefinition<any, any, any>;

export interface WorkflowRuleSpec {
  readonly id: string;
  readonly description: string;
  readonly pattern: (fleet: Fleet, context: AccountContext) => EventPattern;
  /** Key of the event handler the rule invokes. */
  readonly target: string;
  /** Whether the fleet needs the rule (EventBridge refuses a pattern with an empty list). @default - always */
  readonly appliesTo?: (fleet: Fleet) => boolean;
}

/** The rules a workflow has for this fleet. */
export const rulesFor = (spec: WorkflowSpec, fleet: Fleet): readonly WorkflowRuleSpec[] => spec.rules.filter((rule) => rule.appliesTo?.(fleet) ?? true);

export interface WorkflowSpec {
  readonly name: WorkflowName | 'alarm-routing';
  /** The state machine's ASL file; absent for event routing that runs no state machine. */
  readonly aslFile?: string;
  /** Placeholders that are not function ARNs (topics, other state machines), from the configuration. */
  readonly substitutions?: (config: AssureConfig) => Readonly<Record<string, string>>;
  /** Functions the ASL names: placeholder `${<Key>FunctionArn}` → handler. */
  readonly functions: Readonly<Record<string, AnyHandlerDefinition>>;
  /** Functions the ASL does not name: EventBridge targets, or invoked by people (approvals). */
  readonly standaloneFunctions: Readonly<Record<string, AnyHandlerDefinition>>;
  readonly rules: readonly WorkflowRuleSpec[];
}

export const functionArnPlaceholder = (key: string): string => `${key}FunctionArn`;

/** Every function of a workflow, keyed as in the spec. */
export const allFunctions = (spec: WorkflowSpec): [string, AnyHandlerDefinition][] => [
  ...Object.entries(spec.functions),
  ...Object.entries(spec.standaloneFunctions),
];

/** The handler entry file CDK bundles for a definition. */
export const handlerEntry = (definition: AnyHandlerDefinition): string => `functions/${definition.name}/index.ts`;
