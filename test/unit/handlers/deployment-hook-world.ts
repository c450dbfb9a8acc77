/**
 * A progressive deployment of order-gateway as the deployment hook sees it: ECS's
 * service deployment and revisions, the service's tasks, the two listener rules,
 * and recorded per-minute CloudWatch series per target group.
 */
import { type CloudWatchClient, type Datapoint, GetMetricStatisticsCommand, type GetMetricStatisticsCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  type ServiceDeployment,
  type Task,
} from '@aws-sdk/client-ecs';
import { DescribeRulesCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { DeploymentHookPayload } from '../../../functions/judge-deployment-hook/core';
import type { Fleet } from '../../../lib/fleet/fleet';
import type { TestDeps } from '../../support/handler-deps';
import { ACCOUNT, buildTask, CLUSTER, NEW_REVISION_ARN, PREVIOUS_REVISION_ARN, SERVICE_ARN, TASK_IPS } from './builders';
import { principal } from '../../support/approvals';

export const DEPLOYMENT_ARN = `arn:aws:ecs:eu-west-2:${ACCOUNT}:service-deployment/${CLUSTER}/order-gateway/Kf3nQ8xR2mZ1pL7vT9wYa`;
export const NEW_SERVICE_REVISION = `arn:aws:ecs:eu-west-2:${ACCOUNT}:service-revision/${CLUSTER}/order-gateway/4821937465019283746`;
export const OLD_SERVICE_REVISION = `arn:aws:ecs:eu-west-2:${ACCOUNT}:service-revision/${CLUSTER}/order-gateway/4821937465019283001`;
export const DEPLOY_EXECUTION_ID = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-deploy:push-order-gateway-3f9a`;
export const RELEASE_ID = 'push-order-gateway-3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b';

/** The example fleet with order-gateway released as a canary (and, optionally, release approvals required). */
export function canaryFleet(fleet: Fleet, options: { approvals?: boolean } = {}): Fleet {
  const service = fleet.services['order-gateway'];
  if (!service) throw new Error('the example fleet has no order-gateway');
  return {
    ...fleet,
    services: { ...fleet.services, 'order-gateway': { ...service, strategy: { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 } } },
    ...(options.approvals
      ? {
          approvals: {
            ...fleet.approvals,
            release: { required: true, approvers: [principal('head-of-trading'), principal('chief-risk-officer')], timeoutMinutes: 60 },
          },
        }
      : {}),
  };
}

export function trafficShiftOf(fleet: Fleet) {
  const shift = fleet.services['order-gateway']?.trafficShift;
  if (!shift) throw new Error('order-gateway has no trafficShift');
  return shift;
}

export const CONFIGURED_DETAILS = { service: 'order-gateway', deployExecutionId: DEPLOY_EXECUTION_ID, requestedBy: 'release-pipeline', releaseId: RELEASE_ID };

export function hookPayload(
  stage: string,
  overrides: { hookDetails?: Record<string, unknown>; newWeight?: number; target?: string } = {},
): DeploymentHookPayload {
  const newWeight = overrides.newWeight ?? 5;
  return {
    executionDetails: {
      serviceArn: SERVICE_ARN,
      targetServiceRevisionArn: overrides.target ?? NEW_SERVICE_REVISION,
      testTrafficWeights: { [NEW_SERVICE_REVISION]: 100 },
      productionTrafficWeights: { [NEW_SERVICE_REVISION]: newWeight, [OLD_SERVICE_REVISION]: 100 - newWeight },
    },
    executionId: 'ecs-svc/9234719283741928374',
    lifecycleStage: stage,
    resourceArn: DEPLOYMENT_ARN,
    hookDetails: overrides.hookDetails ?? CONFIGURED_DETAILS,
  };
}

/** Per-minute values from `from` (epoch ms), one per minute; undefined = no datapoint. */
export interface RecordedSeries {
  readonly from: number;
  readonly values: readonly (number | undefined)[];
}

export type TargetGroupMetrics = Partial<Record<'RequestCount' | 'HTTPCode_Target_5XX_Count' | 'TargetResponseTime' | 'OrderRejectRate', RecordedSeries>>;

export interface HookWorld {
  deployment: ServiceDeployment;
  tasks: Task[];
  /** Production weights of the blue (old) and green (new) target groups. */
  weights: { blue: number; green: number };
  /** By target group dimension value, `targetgroup/<name>/<id>`. */
  metrics: Record<string, TargetGroupMetrics>;
}

export const BLUE = 'targetgroup/order-gateway-blue/0a1b2c3d4e5f6061';
export const GREEN = 'targetgroup/order-gateway-green/0a1b2c3d4e5f6062';

export function hookWorld(): HookWorld {
  return {
    deployment: {
      serviceDeploymentArn: DEPLOYMENT_ARN,
      serviceArn: SERVICE_ARN,
      status: 'IN_PROGRESS',
      sourceServiceRevisions: [{ arn: OLD_SERVICE_REVISION, requestedTaskCount: 4, runningTaskCount: 4 }],
      targetServiceRevision: { arn: NEW_SERVICE_REVISION, requestedTaskCount: 4, runningTaskCount: 4, requestedProductionTrafficWeight: 5 },
    },
    tasks: [
      ...TASK_IPS.map((ip, i) => buildTask(`new${i}`, ip)),
      ...['10.0.1.21', '10.0.2.22', '10.0.3.23', '10.0.1.24'].map((ip, i) => buildTask(`old${i}`, ip, { taskDefinitionArn: PREVIOUS_REVISION_ARN })),
    ],
    weights: { blue: 95, green: 5 },
    metrics: {},
  };
}

export interface HookStubs {
  readonly ecs: AwsClientStub<ECSClient>;
  readonly elbv2: AwsClientStub<ElasticLoadBalancingV2Client>;
  readonly cloudwatch: AwsClientStub<CloudWatchClient>;
}

function datapoints(input: GetMetricStatisticsCommandInput, series: RecordedSeries | undefined): Datapoint[] {
  if (!series) return [];
  const start = input.StartTime?.getTime() ?? 0;
  const end = input.EndTime?.getTime() ?? 0;
  return series.values.flatMap((value, i) => {
    const at = series.from + i * 60_000;
    if (value === undefined || at < start || at >= end) return [];
    const statistic = input.ExtendedStatistics?.includes('p99') ? { ExtendedStatistics: { p99: value } } : { [input.Statistics?.[0] ?? 'Sum']: value };
    return [{ Timestamp: new Date(at), ...statistic }];
  });
}

export function stubHookWorld(deps: TestDeps, world: HookWorld, fleet: Fleet): HookStubs {
  const ecs = mockClient(deps.clients.ecs);
  ecs.on(DescribeServiceDeploymentsCommand).callsFake(() => ({ serviceDeployments: [world.deployment] }));
  ecs.on(DescribeServiceRevisionsCommand).callsFake((input: { serviceRevisionArns?: string[] }) => ({
    serviceRevisions: (input.serviceRevisionArns ?? []).map((arn) => ({
      serviceRevisionArn: arn,
      taskDefinition: arn === NEW_SERVICE_REVISION ? NEW_REVISION_ARN : PREVIOUS_REVISION_ARN,
    })),
  }));
  ecs.on(ListTasksCommand).callsFake(() => ({ taskArns: world.tasks.map((t) => t.taskArn) }));
  ecs.on(DescribeTasksCommand).callsFake((input: { tasks?: string[] }) => ({ tasks: world.tasks.filter((t) => input.tasks?.includes(t.taskArn ?? '')) }));

  const shift = trafficShiftOf(fleet);
  const elbv2 = mockClient(deps.clients.elbv2);
  elbv2.on(DescribeRulesCommand).callsFake(() => ({
    Rules: [
      {
        RuleArn: shift.productionListenerRuleArn,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: shift.targetGroupArn, Weight: world.weights.blue },
                { TargetGroupArn: shift.alternateTargetGroupArn, Weight: world.weights.green },
              ],
            },
          },
        ],
      },
      {
        RuleArn: shift.testListenerRuleArn,
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: shift.alternateTargetGroupArn, Weight: 100 }] } }],
      },
    ],
  }));

  const cloudwatch = mockClient(deps.clients.cloudwatch);
  cloudwatch.on(GetMetricStatisticsCommand).callsFake((input: GetMetricStatisticsCommandInput) => {
    const targetGroup = input.Dimensions?.find((d) => d.Name === 'TargetGroup')?.Value ?? '';
    const name = input.MetricName as keyof TargetGroupMetrics;
    return { Label: input.MetricName, Datapoints: datapoints(input, world.metrics[targetGroup]?.[name]) };
  });
  return { ecs, elbv2, cloudwatch };
}

/** `n` minutes of a value pattern (repeated). */
export const minutes = (from: number, n: number, pattern: readonly (number | undefined)[]): RecordedSeries => ({
  from,
  values: Array.from({ length: n }, (_, i) => pattern[i % pattern.length]),
});
