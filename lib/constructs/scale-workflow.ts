/**
 * The scale workflow in AWS: what every workflow has, plus one EventBridge
 * Scheduler schedule per scheduled-capacity entry, whose role may start this
 * state machine and nothing else, with a dead-letter queue that pages.
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { scaleSchedules, scaleWorkflow } from '../workflows/scale-workflow';
import { undeliveredSchedulesAlarmName } from '../naming';
import { deadLettersThatPage, WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class ScaleWorkflow extends WorkflowResources<typeof scaleWorkflow> {
  /** The fleet's scheduled capacity, by schedule name. */
  readonly schedules: Readonly<Record<string, Schedule>>;

  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: scaleWorkflow });
    const { permissions: p, fleet } = props;

    const schedules: Record<string, Schedule> = {};
    const entries = scaleSchedules(fleet);
    if (entries.length > 0 && this.stateMachine) {
      const stack = Stack.of(this);
      // One role for every schedule: Scheduler may assume it for this account only, and the target adds StartExecution on this state machine alone.
      const role = new Role(this, 'SchedulerRole', {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
        description: `EventBridge Scheduler starts ${fleet.environment}'s scale state machine for scheduled capacity`,
      });
      // Starting an execution of a state machine under the customer key needs that key, for this state machine only.
      const keyUse = p.stateMachineKeyUse([p.startExecution('scale')]);
      if (keyUse) role.addToPolicy(keyUse);
      const deadLetterQueue = deadLettersThatPage(this, 'ScheduleDeadLetters', {
        alarmName: undeliveredSchedulesAlarmName(fleet.environment),
        alarmDescription: 'EventBridge Scheduler could not start the scale state machine: a scheduled capacity change did not happen',
        deliveredBy: "the scheduled-capacity schedules' target",
        pagingTopic: p.resources.pagingTopic,
      });
      for (const entry of entries) {
        schedules[entry.name] = new Schedule(this, `Schedule-${entry.service}-${entry.entry}`, {
          scheduleName: entry.name,
          description: `${entry.service}: ${entry.desired} tasks at ${entry.scheduleExpression} ${entry.timeZone}`,
          schedule: ScheduleExpression.expression(entry.scheduleExpression, TimeZone.of(entry.timeZone)),
          target: new StepFunctionsStartExecution(this.stateMachine, {
            role,
            input: ScheduleTargetInput.fromObject(entry.input),
            deadLetterQueue,
            // A capacity change an hour late is no longer the one asked for.
            maxEventAge: Duration.hours(1),
            retryAttempts: 10,
          }),
        });
      }
    }
    this.schedules = schedules;
  }
}
