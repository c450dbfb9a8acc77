/**
 * Physical names of the environment's resources, shared by the CDK stack and the
 * sandbox so both address the same things the same way.
 */
import type { AssureConfig } from '../functions/shared/config';
import type { Fleet } from './fleet/fleet';

export interface AccountContext {
  readonly account: string;
  readonly region: string;
}

export const resourcePrefix = (environment: string): string => `assure-${environment}`;

export const functionName = (environment: string, handlerName: string): string => `${resourcePrefix(environment)}-${handlerName}`;

export const stateMachineName = (environment: string, workflow: string): string => `${resourcePrefix(environment)}-${workflow}`;

export function assureConfig(fleet: Fleet, region: string): AssureConfig {
  const prefix = resourcePrefix(fleet.environment);
  return {
    environment: fleet.environment,
    region,
    lockTableName: `${prefix}-deploy-locks`,
    callbackTableName: `${prefix}-task-callbacks`,
    auditTableName: `${prefix}-audit-trail`,
    haltParameterName: `/assure/${fleet.environment}/halt`,
  };
}

export const ecsClusterArn = (context: AccountContext, cluster: string): string => `arn:aws:ecs:${context.region}:${context.account}:cluster/${cluster}`;

export const ecsServiceArn = (context: AccountContext, cluster: string, service: string): string =>
  `arn:aws:ecs:${context.region}:${context.account}:service/${cluster}/${service}`;

export const ecrRepositoryName = (imageRepository: string): string => imageRepository.split('/').slice(1).join('/');
