/**
 * Alarm routing in AWS: the rule on the fleet's alarm state changes, the router
 * function, and its grants (write the halt flag first, start rollbacks and
 * halts, claim guard rails, page).
 */
import type { Construct } from 'constructs';
import { alarmRouting } from '../workflows/alarm-routing';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class AlarmRouting extends WorkflowResources<typeof alarmRouting> {
  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: alarmRouting });
    const { permissions: p } = props;
    const { lockTable, callbackTable } = p.resources;
    p.grant(
      this.functions.RouteAlarmEvent,
      p.appendAudit(),
      // Guard-rail claims, and giving them back when the action they guard fails to start.
      p.controlState('PutItem', 'UpdateItem', 'DeleteItem'),
      p.table(callbackTable, 'GetItem'),
      p.table(lockTable, 'GetItem'),
      p.describeServices(),
      p.writeHaltFlag(),
      p.page(),
      p.startExecution('rollback', 'halt', 'scale'),
      // A rollback alarm during a deploy's soak completes the soak's wait: the deploy rolls itself back.
      p.taskResponses('deploy'),
    );
  }
}
