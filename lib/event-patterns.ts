/**
 * EventBridge event patterns, defined once: the CDK stack puts them on its rules
 * and the sandbox's bus matches events with the very same objects.
 */
import type { Fleet } from './fleet/fleet';
import { fleetAlarms } from './fleet/fleet';
import { type AccountContext, ecsServiceArn } from './naming';

export type EventPattern = Readonly<Record<string, unknown>>;

/** `ECS Deployment State Change` for the fleet's services only. */
export function ecsDeploymentEventPattern(fleet: Fleet, context: AccountContext): EventPattern {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Deployment State Change'],
    resources: Object.values(fleet.services).map((s) => ecsServiceArn(context, fleet.cluster, s.ecsServiceName)),
  };
}

/** The fleet's rollback alarms going into ALARM. */
export function rollbackAlarmEventPattern(fleet: Fleet): EventPattern {
  return {
    source: ['aws.cloudwatch'],
    'detail-type': ['CloudWatch Alarm State Change'],
    detail: {
      alarmName: fleetAlarms(fleet).map(({ alarm }) => alarm.name),
      state: { value: ['ALARM'] },
    },
  };
}
