/**
 * The AWS Control Tower proactive controls (the cfn-guard rules of
 * @cdklabs/cdk-validator-cfnguard, run on the synthesized template by
 * test/infra/control-tower.test.ts) that the stack knowingly does not meet: each
 * acknowledged on exactly the resources it applies to, with the reason. Every
 * other finding is fixed in the stack instead.
 */
import { Validations, type Stack } from 'aws-cdk-lib';
import type { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { FleetAlarms } from './fleet-alarms';

/** The plugin's name, which prefixes its rule ids in an acknowledgement. */
export const CFN_GUARD_PLUGIN = 'cdk-validator-cfnguard';

export interface ControlTowerAcknowledgement {
  /** The cfn-guard rule name (what the plugin reports). */
  readonly rule: string;
  /** The Control Tower control it implements. */
  readonly control: string;
  readonly reason: string;
  /** The resources (their CloudFormation constructs) the finding is accepted for. */
  readonly resources: (stack: Stack, context: GuardContext) => IConstruct[];
}

export interface GuardContext {
  /** The fleet file's alarms. */
  readonly alarms: FleetAlarms;
}

const cfnOf = <T>(scope: IConstruct, type: abstract new (...args: never[]) => T): T[] =>
  scope.node.findAll().filter((c): c is IConstruct & T => c instanceof type);

export const CONTROL_TOWER_ACKNOWLEDGEMENTS: readonly ControlTowerAcknowledgement[] = [
  {
    rule: 'cloudwatch_alarm_action_check',
    control: 'CT.CLOUDWATCH.PR.1',
    reason:
      "The fleet file's alarms act through EventBridge: the alarm router receives each state change and halts, rolls back, scales or pages as the alarm's class requires. An alarm action would page on-call directly for changes no one must act on.",
    resources: (_stack, { alarms }) => [...alarms.alarms.values()].map((a) => a.node.defaultChild as CfnAlarm),
  },
  {
    rule: 'lambda_inside_vpc_check',
    control: 'CT.LAMBDA.PR.3',
    reason:
      "These functions call only AWS APIs (DynamoDB, Step Functions, ECS, SNS, SSM, CloudWatch, Secrets Manager). The functions that reach tasks directly run in the fleet's VPC; the others would need NAT or an interface endpoint per service for no gain in isolation.",
    resources: (stack) => cfnOf(stack, CfnFunction).filter((f) => f.vpcConfig === undefined),
  },
  {
    rule: 'sqs_dlq_check',
    control: 'CT.SQS.PR.1',
    reason:
      "These queues are dead-letter queues of EventBridge targets and Scheduler schedules (their senders' SendMessage fills them; an alarm pages on any message). A dead-letter queue of a dead-letter queue would catch nothing, and the control accepts a queue as a dead-letter queue only if it lets SQS queues redrive into it: these deny all redrive.",
    resources: (stack) =>
      cfnOf(stack, CfnQueue).filter((q) => JSON.stringify(stack.resolve(q.redriveAllowPolicy)) === JSON.stringify({ redrivePermission: 'denyAll' })),
  },
  // The audit archive: an Object Lock (WORM) bucket, lib/constructs/audit-archive.ts.
  ...(
    [
      [
        's3_bucket_logging_enabled_check',
        'CT.S3.PR.2',
        "Only the archiver's role may write to the audit archive, and nothing can delete or overwrite a locked version: object-level access belongs to the organisation's CloudTrail data events.",
      ],
      [
        's3_event_notifications_enabled_check',
        'CT.S3.PR.4',
        'Nothing acts on a new audit archive object; the archiver fails (and pages) when a write does not succeed.',
      ],
      [
        's3_lifecycle_policy_check',
        'CT.S3.PR.6',
        "The audit archive keeps every record at least for the fleet's retention; what happens after it is the firm's records policy, not an automatic expiry.",
      ],
      [
        's3_version_lifecycle_policy_check',
        'CT.S3.PR.3',
        'Every audit archive version is evidence (a replaced or hidden record keeps its original version): none expires automatically.',
      ],
    ] as const
  ).map(([rule, control, reason]) => ({
    rule,
    control,
    reason,
    resources: (stack: Stack) => cfnOf(stack, CfnBucket).filter((b) => b.objectLockEnabled === true),
  })),
];

/** Records each acknowledgement on its resources (read at synthesis by the policy-validation report). */
export function acknowledgeControlTowerFindings(stack: Stack, context: GuardContext): void {
  for (const ack of CONTROL_TOWER_ACKNOWLEDGEMENTS) {
    for (const resource of ack.resources(stack, context)) {
      Validations.of(resource).acknowledge({ id: `${CFN_GUARD_PLUGIN}::${ack.rule}`, reason: `${ack.control}: ${ack.reason}` });
    }
  }
}
