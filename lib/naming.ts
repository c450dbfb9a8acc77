/**
 * Physical names of the environment's resources, shared by the CDK stack and the
 * sandbox so both address the same things the same way.
 */
import type { AssureConfig } from '../functions/shared/runtime/config';
import type { Fleet } from './fleet/fleet';
import { WORKFLOWS, type WorkflowName } from './workflows/workflow-names';

export interface AccountContext {
  readonly account: string;
  readonly region: string;
}

export const resourcePrefix = (environment: string): string => `assure-${environment}`;

/** `assure-<env>-<workflow>-<handler>`: a handler used by two workflows is deployed once for each. */
export const functionName = (environment: string, workflow: string, handlerName: string): string => `${resourcePrefix(environment)}-${workflow}-${handlerName}`;

/** `rotate-secret` → `RotateSecret`: a workflow's name in construct ids and stack outputs. */
export const pascalCase = (name: string): string => name.replace(/(^|-)([a-z])/g, (_m, _dash: string, letter: string) => letter.toUpperCase());

export const stateMachineName = (environment: string, workflow: string): string => `${resourcePrefix(environment)}-${workflow}`;

export { WORKFLOWS, type WorkflowName } from './workflows/workflow-names';

export const stateMachineArn = (context: AccountContext, environment: string, workflow: WorkflowName): string =>
  `arn:aws:states:${context.region}:${context.account}:stateMachine:${stateMachineName(environment, workflow)}`;

/** An EventBridge rule of a workflow or event route: `assure-<env>-<group>-<ruleId>`. */
export const ruleName = (environment: string, group: string, ruleId: string): string => `${resourcePrefix(environment)}-${group}-${ruleId}`;

/** The alarm on a workflow's rule dead-letter queue: an event EventBridge could not deliver to it. */
export const undeliveredEventsAlarmName = (environment: string, group: string): string => `${resourcePrefix(environment)}-${group}-undelivered-events`;

/** The alarm on the scale workflow's schedule dead-letter queue: a scheduled capacity change that did not start. */
export const undeliveredSchedulesAlarmName = (environment: string): string => `${resourcePrefix(environment)}-scale-undelivered-schedules`;

/** The alarm on the audit stream's dead-letter queue: a record not archived, or an audit record changed or deleted. */
export const unarchivedAuditRecordsAlarmName = (environment: string): string => `${resourcePrefix(environment)}-audit-unarchived-records`;

/** EventBridge Scheduler's schedule name for a scheduled-capacity entry (at most 64 characters). */
export const scaleScheduleName = (environment: string, service: string, entry: string): string =>
  `${resourcePrefix(environment)}-scale-${service}-${entry}`.slice(0, 64);

export const pagingTopicName = (environment: string): string => `${resourcePrefix(environment)}-paging`;

/** A role in the account by its name (fleet files name roles, never ARNs). */
export const iamRoleArn = (account: string, roleName: string): string => `arn:aws:iam::${account}:role/${roleName}`;

/**
 * Assure's ECS lifecycle hook: the deploy workflow's standalone function `JudgeDeploymentHook`
 * (handler `judge-deployment-hook`), named as every workflow function is.
 */
export const deploymentHookFunctionName = (environment: string): string => functionName(environment, 'deploy', 'judge-deployment-hook');

/** The role ECS assumes to invoke the lifecycle hook (lambda:InvokeFunction on that function only). */
export const deploymentHookRoleName = (environment: string): string => `${resourcePrefix(environment)}-deployment-hook-invoke`;

/**
 * The audit archive bucket: S3 bucket names are global, so the account and region make it unique
 * (`assure-<env>-archive-<account>-<region>`: at most 63 characters, with a 20-character environment and the longest region names).
 */
export const auditArchiveBucketName = (environment: string, context: AccountContext): string =>
  `${resourcePrefix(environment)}-archive-${context.account}-${context.region}`;

/** Every name and ARN the handlers need, derived from the environment and the account (no resource lookups). */
export function assureConfig(fleet: Fleet, context: AccountContext): AssureConfig {
  const prefix = resourcePrefix(fleet.environment);
  const env = fleet.environment;
  return {
    environment: env,
    region: context.region,
    account: context.account,
    lockTableName: `${prefix}-deploy-locks`,
    callbackTableName: `${prefix}-task-callbacks`,
    auditTableName: `${prefix}-audit-trail`,
    auditArchiveBucketName: auditArchiveBucketName(fleet.environment, context),
    stateTableName: `${prefix}-control-state`,
    haltParameterName: `/assure/${env}/halt`,
    pagingTopicArn: `arn:aws:sns:${context.region}:${context.account}:${pagingTopicName(env)}`,
    stateMachineArns: Object.fromEntries(WORKFLOWS.map((w) => [w, stateMachineArn(context, env, w)])) as Record<WorkflowName, string>,
    deploymentHookFunctionArn: `arn:aws:lambda:${context.region}:${context.account}:function:${deploymentHookFunctionName(env)}`,
    deploymentHookRoleArn: iamRoleArn(context.account, deploymentHookRoleName(env)),
  };
}

export const ecsClusterArn = (context: AccountContext, cluster: string): string => `arn:aws:ecs:${context.region}:${context.account}:cluster/${cluster}`;

export const ecsServiceArn = (context: AccountContext, cluster: string, service: string): string =>
  `arn:aws:ecs:${context.region}:${context.account}:service/${cluster}/${service}`;

export const ecrRepositoryName = (imageRepository: string): string => imageRepository.split('/').slice(1).join('/');
