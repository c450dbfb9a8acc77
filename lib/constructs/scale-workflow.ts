/**
 * The scale workflow in AWS: its functions, the state machine from
 * state-machines/scale.asl.json, each function's grants (UpdateService only on
 * the services that have a scaling policy), and one EventBridge Scheduler
 * schedule per scheduled-capacity entry, whose role may start this state
 * machine and nothing else.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { scaleSchedules, scaleWorkflow } from '../workflows/scale-workflow';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class ScaleWorkflow extends WorkflowResources<typeof scaleWorkflow> {
  /** The fleet's scheduled capacity, by schedule name. */
  readonly schedules: Readonly<Record<string, Schedule>>;

  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: scaleWorkflow });
    const { permissions: p, fleet } = props;
    const { lockTable } = p.resources;
    const fn = this.functions;
    const scaling = Object.values(fleet.services).filter((s) => s.scaling);
    const scalingArns = p.serviceArns(scaling);

    // Validation reads only the bundled fleet file.
    p.grant(
      fn.DecideScaling,
      ...(scalingArns.length > 0 ? [p.describeServices()] : []),
      p.readHaltFlag(),
      p.table(lockTable, 'GetItem'),
      p.controlState('GetItem', 'PutItem'),
      p.appendAudit(),
    );
    if (scalingArns.length > 0) p.grant(fn.ApplyScalingDecision, p.updateServices(scalingArns));
    p.grant(fn.ApplyScalingDecision, p.appendAudit());
    p.grant(fn.RecordScalingOutcome, p.controlState('PutItem', 'DeleteItem'), p.appendAudit(), p.page());

    const schedules: Record<string, Schedule> = {};
    const entries = scaleSchedules(fleet);
    if (entries.length > 0 && this.stateMachine) {
      const stack = Stack.of(this);
      // One role for every schedule: Scheduler may assume it for this account only, and the target adds StartExecution on this state machine alone.
      const role = new Role(this, 'SchedulerRole', {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
        description: `EventBridge Scheduler starts ${fleet.environment}'s scale state machine for scheduled capacity`,
      });
      const deadLetterQueue = new Queue(this, 'ScheduleDeadLetters', { retentionPeriod: Duration.days(14), encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true });
      Validations.of(deadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: "This queue is the dead-letter queue of the scheduled-capacity schedules' target; nothing redrives into it.",
      });
      new Alarm(this, 'ScheduleDeadLettersAlarm', {
        alarmName: `assure-${fleet.environment}-scale-undelivered-schedules`,
        alarmDescription: 'EventBridge Scheduler could not start the scale state machine: a scheduled capacity change did not happen',
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(p.resources.pagingTopic));
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
