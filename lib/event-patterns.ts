/**
 * EventBridge event patterns, defined once: the CDK stack puts them on its rules
 * and the sandbox's bus matches events with the very same objects.
 */
import type { Fleet, FleetService } from './fleet/fleet';
import { classifiedAlarms } from './fleet/fleet';
import { type AccountContext, ecrRepositoryName, ecsServiceArn, stateMachineArn } from './naming';

export type EventPattern = Readonly<Record<string, unknown>>;

/** `ECS Deployment State Change` for the fleet's services only. */
export function ecsDeploymentEventPattern(fleet: Fleet, context: AccountContext): EventPattern {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Deployment State Change'],
    resources: Object.values(fleet.services).map((s) => ecsServiceArn(context, fleet.cluster, s.ecsServiceName)),
  };
}

/**
 * Every state change of the fleet's alarms, and of any alarm named like the
 * environment's (`prod-...`), so the router can refuse, and record, what it does
 * not know. Changes into OK and INSUFFICIENT_DATA are delivered too: they are
 * recorded as no-action.
 */
export function alarmEventPattern(fleet: Fleet): EventPattern {
  return {
    source: ['aws.cloudwatch'],
    'detail-type': ['CloudWatch Alarm State Change'],
    detail: {
      alarmName: [...classifiedAlarms(fleet).map(({ alarm }) => alarm.name), { prefix: `${fleet.environment}-` }],
    },
  };
}

/** Deploy executions that ended without finishing their own bookkeeping (stopped, timed out, failed). */
export function deployExecutionEndPattern(fleet: Fleet, context: AccountContext): EventPattern {
  return {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: {
      stateMachineArn: [stateMachineArn(context, fleet.environment, 'deploy')],
      status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
    },
  };
}

/** The services a push to their repository releases (`release.trigger: push`). */
export function pushTriggeredServices(fleet: Fleet): FleetService[] {
  return fleet.deployOrder.map((id) => fleet.services[id]).filter((s): s is FleetService => s !== undefined && s.release.trigger === 'push');
}

/** Successful ECR pushes to exactly the repositories of the services a push releases. */
export function ecrPushEventPattern(fleet: Fleet): EventPattern {
  return {
    source: ['aws.ecr'],
    'detail-type': ['ECR Image Action'],
    detail: {
      'action-type': ['PUSH'],
      result: ['SUCCESS'],
      'repository-name': [...new Set(pushTriggeredServices(fleet).map((s) => ecrRepositoryName(s.imageRepository)))],
    },
  };
}

/** Release executions that ended without recording their own end (stopped, timed out, failed). */
export function releaseExecutionEndPattern(fleet: Fleet, context: AccountContext): EventPattern {
  return {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: {
      stateMachineArn: [stateMachineArn(context, fleet.environment, 'release')],
      status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
    },
  };
}
