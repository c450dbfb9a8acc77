/**
 * The CDK stack, synthesised offline from the example fleet (bundling skipped:
 * the benchmark measures the real bundles): ASL substitutions, IAM scoping,
 * EventBridge rules, runtime settings, tables, logging, and cdk-nag.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import { ecsDeploymentEventPattern, rollbackAlarmEventPattern } from '../../lib/event-patterns';
import type { Fleet } from '../../lib/fleet/fleet';
import { fleetAlarms } from '../../lib/fleet/fleet';
import { placeholders, readAsl } from '../../lib/workflows/asl';
import { deployWorkflow } from '../../lib/workflows/deploy-workflow';
import { functionArnPlaceholder } from '../../lib/workflows/workflow-spec';
import { exampleFleet } from '../support/handler-deps';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, unknown>;
}

function synthesize(fleet: Fleet): { stack: AssureStack; template: Template } {
  // Skip esbuild here: the benchmark bundles for real, these tests look at the template.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AssureStack(app, 'Test', {
    fleet,
    ...(fleet.account ? { env: { account: fleet.account, region: fleet.region } } : {}),
  });
  return { stack, template: Template.fromStack(stack) };
}

/** Every policy statement of a function's role, by the function's logical id prefix. */
function statementsOf(template: Template, functionKey: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(`Deploy${functionKey}Role`))
    .flatMap(([, policy]) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

describe('Assure stack', () => {
  const fleet = exampleFleet();
  let template: Template;
  let stack: AssureStack;

  beforeAll(() => {
    ({ stack, template } = synthesize(fleet));
  });

  it('substitutes every ASL placeholder, and no substitution is unused', () => {
    const expected = placeholders(readAsl(deployWorkflow.aslFile));
    expect(expected).toEqual(Object.keys(deployWorkflow.functions).map(functionArnPlaceholder).sort());
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    const substitutions = (machines[0] as { Properties: { DefinitionSubstitutions: Record<string, unknown> } }).Properties.DefinitionSubstitutions;
    expect(Object.keys(substitutions).sort()).toEqual(expected);
  });

  it('runs every function on Node.js 24 on ARM64, traced, with the Assure configuration', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const all = { ...deployWorkflow.functions, ...deployWorkflow.eventHandlers };
    expect(Object.keys(functions)).toHaveLength(Object.keys(all).length);
    for (const fn of Object.values(functions) as { Properties: Record<string, unknown> }[]) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: {
            ASSURE_ENVIRONMENT: 'prod',
            ASSURE_LOCK_TABLE: 'assure-prod-deploy-locks',
            ASSURE_CALLBACK_TABLE: 'assure-prod-task-callbacks',
            ASSURE_AUDIT_TABLE: 'assure-prod-audit-trail',
            ASSURE_HALT_PARAMETER: '/assure/prod/halt',
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      });
    }
    // Only the health gate calls tasks, so only it runs in the fleet's VPC.
    const inVpc = Object.values(functions).filter((f) => (f as { Properties: Record<string, unknown> }).Properties.VpcConfig);
    expect(inVpc).toHaveLength(1);
    expect((inVpc[0] as { Properties: { FunctionName: string } }).Properties.FunctionName).toBe('assure-prod-run-health-gate');
  });

  it('lets only the rollout and rollback functions update ECS services, and only the fleet’s', () => {
    const serviceArns = Object.values(fleet.services).map((s) => `arn:aws:ecs:eu-west-2:111122223333:service/trading-prod/${s.ecsServiceName}`).sort();
    const all = { ...deployWorkflow.functions, ...deployWorkflow.eventHandlers };
    for (const key of Object.keys(all)) {
      const updates = statementsOf(template, key).filter((s) => actions(s).includes('ecs:UpdateService'));
      if (key === 'StartRollingDeployment' || key === 'RollBackDeployment') {
        expect(updates, key).toHaveLength(1);
        expect((resources(updates[0] as Statement) as string[]).sort()).toEqual(serviceArns);
      } else {
        expect(updates, key).toHaveLength(0);
      }
    }
  });

  it('lets only the registering function pass roles, and only the fleet’s task and execution roles, to ECS tasks', () => {
    const roleArns = Object.values(fleet.services)
      .flatMap((s) => [s.taskRoleName, s.executionRoleName])
      .filter((r): r is string => r !== undefined)
      .map((r) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::111122223333:role/${r}`]] }));
    const passRole = Object.keys({ ...deployWorkflow.functions, ...deployWorkflow.eventHandlers }).flatMap((key) =>
      statementsOf(template, key)
        .filter((s) => actions(s).includes('iam:PassRole'))
        .map((s) => ({ key, s })),
    );
    expect(passRole.map((p) => p.key)).toEqual(['RegisterTaskDefinition']);
    const statement = passRole[0]?.s as Statement;
    expect(resources(statement)).toEqual(expect.arrayContaining(roleArns));
    expect(resources(statement)).toHaveLength(roleArns.length);
    expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  it('never grants a wildcard action, and allows "*" resources only where AWS supports nothing narrower', () => {
    const allowedOnStar = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'ecs:DescribeTaskDefinition',
      'ecs:RegisterTaskDefinition',
      'ecs:ListTasks',
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ]);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
    for (const statement of policies.flatMap((p) => p.Properties.PolicyDocument.Statement)) {
      for (const action of actions(statement)) expect(action).not.toMatch(/\*/);
      if (resources(statement).includes('*')) {
        for (const action of actions(statement)) expect(allowedOnStar, action).toContain(action);
      }
    }
    const listTasks = statementsOf(template, 'RunHealthGate').find((s) => actions(s).includes('ecs:ListTasks'));
    expect(listTasks?.Condition).toEqual({ ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:eu-west-2:111122223333:cluster/trading-prod' } });
  });

  it('keeps the audit trail append-only for every function', () => {
    const auditArn = { 'Fn::GetAtt': [stack.getLogicalId(stack.node.findChild('auditTable').node.defaultChild as never), 'Arn'] };
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
    const onAudit = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => resources(s).some((r) => JSON.stringify(r) === JSON.stringify(auditArn)));
    expect(onAudit.length).toBeGreaterThan(0);
    for (const statement of onAudit) expect(actions(statement)).toEqual(['dynamodb:PutItem']);
  });

  it('routes ECS deployment events and rollback alarms with the same patterns the sandbox matches', () => {
    const context = { account: '111122223333', region: 'eu-west-2' };
    const ecsPattern = ecsDeploymentEventPattern(fleet, context);
    const alarmPattern = rollbackAlarmEventPattern(fleet);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: ecsPattern,
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: alarmPattern });
    expect((alarmPattern.detail as { alarmName: string[] }).alarmName).toEqual(fleetAlarms(fleet).map((a) => a.alarm.name));
    expect(ecsPattern.resources).toContain('arn:aws:ecs:eu-west-2:111122223333:service/trading-prod/order-gateway');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it("creates the fleet's rollback alarms from the fleet file", () => {
    const alarms = fleetAlarms(fleet);
    const latency = alarms.find((a) => a.alarm.name === 'prod-order-gateway-latency-p99')?.alarm;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'prod-order-gateway-latency-p99',
      Namespace: 'Trading',
      MetricName: 'LatencyP99',
      Dimensions: [{ Name: 'Service', Value: 'order-gateway' }],
      Statistic: 'Maximum',
      Period: 30,
      Threshold: latency?.threshold,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: { AlarmName?: string } }).Properties.AlarmName);
    for (const { alarm } of alarms) expect(names).toContain(alarm.name);
  });

  it('logs the state machine without execution data and traces it', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'assure-prod-deploy',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: Match.anyValue() },
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup')) as { Properties: { RetentionInDays?: number } }[]) {
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });

  it('keeps the tables with point-in-time recovery; the audit trail outlives the stack', () => {
    const tables = template.findResources('AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(4);
    for (const table of Object.values(tables) as { Properties: { Replicas: { PointInTimeRecoverySpecification?: unknown }[] } }[]) {
      expect(table.Properties.Replicas[0]?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ TableName: 'assure-prod-audit-trail', Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })] }),
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'assure-prod-task-callbacks',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/assure/prod/halt', Value: '{"halted":false}' });
  });

  it('passes the cdk-nag AWS Solutions checks (with reviewed acknowledgements only)', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('synthesises without an account or region in the fleet file (deploy-time environment)', () => {
    const { account: _account, region: _region, ...agnostic } = fleet;
    const { template: agnosticTemplate } = synthesize(agnostic as Fleet);
    const rule = Object.values(agnosticTemplate.findResources('AWS::Events::Rule')).find((r) =>
      JSON.stringify(r).includes('ECS Deployment State Change'),
    );
    expect(JSON.stringify(rule)).toContain('AWS::AccountId');
  });
});
