/**
 * Settings every handler reads from its Lambda environment. The CDK constructs set
 * them from the same names, and the sandbox builds the same object directly.
 */
import * as z from 'zod';
import { WORKFLOWS, type WorkflowName } from '../../../lib/workflows/workflow-names';

export interface AssureConfig {
  readonly environment: string;
  readonly region: string;
  /** The account Assure runs in: alarm events from any other are refused. */
  readonly account: string;
  readonly lockTableName: string;
  readonly callbackTableName: string;
  readonly auditTableName: string;
  /** The S3 bucket (Object Lock, compliance mode) the audit table's stream archives every record to. */
  readonly auditArchiveBucketName: string;
  /** Guard-rail counters, cooldowns and halt snapshots. */
  readonly stateTableName: string;
  /** SSM parameter holding the environment's halt flag (JSON). */
  readonly haltParameterName: string;
  readonly pagingTopicArn: string;
  /** Every workflow's state machine, by workflow name. */
  readonly stateMachineArns: Readonly<Record<WorkflowName, string>>;
  /** Assure's ECS lifecycle hook function (the deploy workflow's judge), registered on blue/green, canary and linear deployments. */
  readonly deploymentHookFunctionArn: string;
  /** The role ECS assumes to invoke the lifecycle hook. */
  readonly deploymentHookRoleArn: string;
}

/** Environment variable names, shared by the CDK constructs that set them. */
export const CONFIG_ENVIRONMENT_VARIABLES = {
  environment: 'ASSURE_ENVIRONMENT',
  account: 'ASSURE_ACCOUNT',
  lockTableName: 'ASSURE_LOCK_TABLE',
  callbackTableName: 'ASSURE_CALLBACK_TABLE',
  auditTableName: 'ASSURE_AUDIT_TABLE',
  auditArchiveBucketName: 'ASSURE_AUDIT_ARCHIVE_BUCKET',
  stateTableName: 'ASSURE_STATE_TABLE',
  haltParameterName: 'ASSURE_HALT_PARAMETER',
  pagingTopicArn: 'ASSURE_PAGING_TOPIC',
  deploymentHookFunctionArn: 'ASSURE_DEPLOYMENT_HOOK_FUNCTION',
  deploymentHookRoleArn: 'ASSURE_DEPLOYMENT_HOOK_ROLE',
} as const satisfies Record<Exclude<keyof AssureConfig, 'region' | 'stateMachineArns'>, string>;

/** `ASSURE_<WORKFLOW>_STATE_MACHINE`, one per workflow: the state machine's ARN. */
export const stateMachineVariable = (workflow: WorkflowName): string => `ASSURE_${workflow.toUpperCase().replace(/-/g, '_')}_STATE_MACHINE`;

const required = z.string().min(1, 'is not set');

export function configFromEnvironment(env: NodeJS.ProcessEnv): AssureConfig {
  const schema = z.object({
    AWS_REGION: required,
    ...Object.fromEntries([...Object.values(CONFIG_ENVIRONMENT_VARIABLES), ...WORKFLOWS.map(stateMachineVariable)].map((name) => [name, required])),
  });
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    throw new Error(`Lambda environment is incomplete: ${problems}`);
  }
  const values = parsed.data as Record<string, string>;
  const fields = Object.fromEntries(Object.entries(CONFIG_ENVIRONMENT_VARIABLES).map(([key, name]) => [key, values[name] as string]));
  const stateMachineArns = Object.fromEntries(WORKFLOWS.map((w) => [w, values[stateMachineVariable(w)] as string])) as Record<WorkflowName, string>;
  return { ...fields, stateMachineArns, region: values.AWS_REGION as string } as AssureConfig;
}

export function configToEnvironment(config: Omit<AssureConfig, 'region'>): Record<string, string> {
  return Object.fromEntries([
    ...Object.entries(CONFIG_ENVIRONMENT_VARIABLES).map(([key, name]) => [name, config[key as keyof typeof CONFIG_ENVIRONMENT_VARIABLES]]),
    ...WORKFLOWS.map((w) => [stateMachineVariable(w), config.stateMachineArns[w]]),
  ]);
}
