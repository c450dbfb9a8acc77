import type { HandlerDefinition } from '../../functions/shared/handler';
import type { EventPattern } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import type { AssureConfig } from '../../functions/shared/config';
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
}

export interface WorkflowSpec {
  readonly name: WorkflowName;
  readonly aslFile: string;
  /** Placeholders that are not function ARNs (topics, other state machines), from the configuration. */
  readonly substitutions?: (config: AssureConfig) => Readonly<Record<string, string>>;
  readonly functions: Readonly<Record<string, AnyHandlerDefinition>>;
  readonly eventHandlers: Readonly<Record<string, AnyHandlerDefinition>>;
  readonly rules: readonly WorkflowRuleSpec[];
}

export const functionArnPlaceholder = (key: string): string => `${key}FunctionArn`;

/** The handler entry file CDK bundles for a definition. */
export const handlerEntry = (definition: AnyHandlerDefinition): string => `functions/${definition.name}/index.ts`;
