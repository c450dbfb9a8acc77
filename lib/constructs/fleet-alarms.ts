/**
 * The CloudWatch alarms the fleet file defines (services' rollback alarms, the
 * halt alarms, the notify-only alarms), created from the same definitions the
 * sandbox uses.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { AlarmDefinition } from '../fleet/fleet-schema';
import { type AlarmClass, classifiedAlarms, type Fleet } from '../fleet/fleet';

export interface FleetAlarmsProps {
  /** The fleet whose alarms to create. */
  readonly fleet: Fleet;
}

const COMPARISONS: Record<AlarmDefinition['comparison'], ComparisonOperator> = {
  GreaterThanThreshold: ComparisonOperator.GREATER_THAN_THRESHOLD,
  GreaterThanOrEqualToThreshold: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  LessThanThreshold: ComparisonOperator.LESS_THAN_THRESHOLD,
  LessThanOrEqualToThreshold: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
};

const MISSING_DATA: Record<AlarmDefinition['treatMissingData'], TreatMissingData> = {
  breaching: TreatMissingData.BREACHING,
  notBreaching: TreatMissingData.NOT_BREACHING,
  ignore: TreatMissingData.IGNORE,
  missing: TreatMissingData.MISSING,
};

export class FleetAlarms extends Construct {
  /** Alarms by name. */
  readonly alarms: ReadonlyMap<string, Alarm>;

  constructor(scope: Construct, id: string, props: FleetAlarmsProps) {
    super(scope, id);
    const alarms = new Map<string, Alarm>();
    for (const classified of classifiedAlarms(props.fleet)) {
      const { alarm } = classified;
      alarms.set(
        alarm.name,
        new Alarm(this, alarm.name, {
          alarmName: alarm.name,
          alarmDescription: alarm.description ?? defaultDescription(classified),
          metric: new Metric({
            namespace: alarm.metric.namespace,
            metricName: alarm.metric.name,
            dimensionsMap: alarm.metric.dimensions,
            statistic: alarm.metric.statistic,
            period: Duration.seconds(alarm.metric.periodSeconds),
          }),
          threshold: alarm.threshold,
          comparisonOperator: COMPARISONS[alarm.comparison],
          evaluationPeriods: alarm.evaluationPeriods,
          datapointsToAlarm: alarm.datapointsToAlarm ?? alarm.evaluationPeriods,
          treatMissingData: MISSING_DATA[alarm.treatMissingData],
        }),
      );
    }
    this.alarms = alarms;
  }
}

function defaultDescription(classified: AlarmClass): string {
  switch (classified.kind) {
    case 'rollback':
      return `${classified.service.id}: a release that breaches this is rolled back`;
    case 'halt':
      return `Trading risk: this alarm halts trading on ${classified.services.join(', ')}`;
    case 'notify':
      return 'Pages on-call; Assure takes no automatic action';
    case 'scale':
      return `${classified.service.id}: ${classified.alarm.direction} by step adjustment`;
  }
}
