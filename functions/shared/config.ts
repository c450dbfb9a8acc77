/**
 * Settings every handler reads from its Lambda environment. The CDK constructs set
 * them from the same names, and the sandbox builds the same object directly.
 */
import * as z from 'zod';

export interface AssureConfig {
  readonly environment: string;
  readonly region: string;
  readonly lockTableName: string;
  readonly callbackTableName: string;
  readonly auditTableName: string;
  /** SSM parameter holding the environment's halt flag (JSON). */
  readonly haltParameterName: string;
}

/** Environment variable names, shared by the CDK constructs that set them. */
export const CONFIG_ENVIRONMENT_VARIABLES = {
  environment: 'ASSURE_ENVIRONMENT',
  lockTableName: 'ASSURE_LOCK_TABLE',
  callbackTableName: 'ASSURE_CALLBACK_TABLE',
  auditTableName: 'ASSURE_AUDIT_TABLE',
  haltParameterName: 'ASSURE_HALT_PARAMETER',
} as const satisfies Record<Exclude<keyof AssureConfig, 'region'>, string>;

const required = z.string().min(1, 'is not set');

export function configFromEnvironment(env: NodeJS.ProcessEnv): AssureConfig {
  const schema = z.object({
    AWS_REGION: required,
    ...Object.fromEntries(Object.values(CONFIG_ENVIRONMENT_VARIABLES).map((name) => [name, required])),
  });
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    throw new Error(`Lambda environment is incomplete: ${problems}`);
  }
  const values = parsed.data as Record<string, string>;
  const v = CONFIG_ENVIRONMENT_VARIABLES;
  return {
    region: values.AWS_REGION as string,
    environment: values[v.environment] as string,
    lockTableName: values[v.lockTableName] as string,
    callbackTableName: values[v.callbackTableName] as string,
    auditTableName: values[v.auditTableName] as string,
    haltParameterName: values[v.haltParameterName] as string,
  };
}

export function configToEnvironment(config: Omit<AssureConfig, 'region'>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(CONFIG_ENVIRONMENT_VARIABLES).map(([key, name]) => [name, config[key as keyof typeof CONFIG_ENVIRONMENT_VARIABLES]]),
  );
}
