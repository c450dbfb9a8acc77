/**
 * What provisioning a workflow or event route creates, and under which names:
 * one function per handler, the state machine with its ASL substitutions, and
 * the EventBridge rules. The CDK stack and the sandbox both create exactly
 * this; only how each creates a resource differs.
 */
import type { AssureConfig } from '../../functions/shared/runtime/config';
import type { EventPattern } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import { type AccountContext, functionName, ruleName, stateMachineName, undeliveredEventsAlarmName } from '../naming';
import { readAsl } from './asl';
import { allFunctions, type AnyHandlerDefinition, functionArnPlaceholder, type ResourceGroupSpec, rulesFor } from './workflow-spec';

export interface PlannedFunction {
  /** The spec's key, e.g. `RunHealthGate`. */
  readonly key: string;
  readonly definition: AnyHandlerDefinition;
  /** `assure-<env>-<workflow>-<handler>`. */
  readonly functionName: string;
}

export interface PlannedStateMachine {
  readonly name: string;
  /** The ASL as loaded (standard retriers expanded), placeholders still in it. */
  readonly definition: string;
  /** Every `${...}` the ASL names, given the ARN each function got. */
  readonly substitutions: (functionArn: (key: string) => string) => Readonly<Record<string, string>>;
}

export interface PlannedRule {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly pattern: EventPattern;
  /** Key of the function the rule invokes. */
  readonly target: string;
}

export interface ProvisioningPlan {
  readonly spec: ResourceGroupSpec;
  readonly functions: readonly PlannedFunction[];
  /** Absent for an event route. */
  readonly stateMachine?: PlannedStateMachine;
  readonly rules: readonly PlannedRule[];
  /** The alarm on the rules' dead-letter queue (when there are rules). */
  readonly undeliveredEventsAlarmName: string;
}

export function provisioningPlan(spec: ResourceGroupSpec, fleet: Fleet, context: AccountContext, config: AssureConfig): ProvisioningPlan {
  const environment = fleet.environment;
  const functions = allFunctions(spec).map(([key, definition]) => ({ key, definition, functionName: functionName(environment, spec.name, definition.name) }));
  const keys = new Set(functions.map((f) => f.key));
  const rules = rulesFor(spec, fleet).map((rule) => {
    if (!keys.has(rule.target)) throw new Error(`Rule ${rule.id} of ${spec.name} targets ${rule.target}, which is not one of its functions`);
    return {
      id: rule.id,
      name: ruleName(environment, spec.name, rule.id),
      description: rule.description,
      pattern: rule.pattern(fleet, context),
      target: rule.target,
    };
  });
  return {
    spec,
    functions,
    ...(spec.kind === 'workflow'
      ? {
          stateMachine: {
            name: stateMachineName(environment, spec.name),
            definition: readAsl(spec.aslFile),
            substitutions: (functionArn) => ({
              ...spec.substitutions?.(config),
              ...Object.fromEntries(Object.keys(spec.functions).map((key) => [functionArnPlaceholder(key), functionArn(key)])),
            }),
          },
        }
      : {}),
    rules,
    undeliveredEventsAlarmName: undeliveredEventsAlarmName(environment, spec.name),
  };
}
