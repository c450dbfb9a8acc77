/** Alarm routing, an event route (no state machine): every fleet alarm's state change goes to the router, which decides what it means. */
import { routeAlarmEvent } from '../../functions/route-alarm-event/core';
import { alarmEventPattern } from '../event-patterns';
import type { EventRouteSpec } from './workflow-spec';

export const alarmRouting = {
  kind: 'event-route',
  name: 'alarm-routing',
  functions: { RouteAlarmEvent: routeAlarmEvent },
  rules: [
    {
      id: 'AlarmStateChanges',
      description: "The fleet's alarms (and any named like the environment's) changing state: rollback, halt, page, or a recorded refusal",
      pattern: (fleet) => alarmEventPattern(fleet),
      target: 'RouteAlarmEvent',
    },
  ],
} as const satisfies EventRouteSpec;
