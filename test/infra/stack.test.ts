/**
 * The CDK stack, synthesised offline from the example fleet (bundling skipped:
 * the benchmark measures the real bundles): ASL substitutions, IAM scoping per
 * function, EventBridge rules with dead-letter queues, the paging topic, the
 * fleet's alarms, runtime settings, tables, logging, and cdk-nag.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import { alarmEventPattern, deployExecutionEndPattern, ecsDeploymentEventPattern } from '../../lib/event-patterns';
import type { Fleet } from '../../lib/fleet/fleet';
import { classifiedAlarms, fleetAlarms, tradingServices } from '../../lib/fleet/fleet';
import { placeholders, readAsl } from '../../lib/workflows/asl';
import { HANDLER_GRANTS } from '../../lib/constructs/handler-grants';
import { WILDCARD_ONLY_ACTIONS, WILDCARD_ONLY_POLICY_ID } from '../../lib/constructs/nag';
import { pascalCase } from '../../lib/naming';
import { ALL_SPECS, WORKFLOW_SPECS } from '../../lib/workflows/registry';
import { allFunctions, functionArnPlaceholder } from '../../lib/workflows/workflow-spec';
import { exampleFleet, testConfig } from '../support/handler-deps';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, unknown>;
}

/** The stack, not yet synthesized (cdk-nag reads the constructs; the stack can still be changed). */
function build(fleet: Fleet): AssureStack {
  // Skip esbuild here: the benchmark bundles for real, these tests look at the template.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new AssureStack(app, 'Test', {
    fleet,
    ...(fleet.account ? { env: { account: fleet.account, region: fleet.region } } : {}),
  });
}

function synthesize(fleet: Fleet): { stack: AssureStack; template: Template } {
  const stack = build(fleet);
  return { stack, template: Template.fromStack(stack) };
}

/** Every function of every workflow, as `<ConstructId><Key>` (the prefix of its logical ids). */
const ALL_FUNCTIONS = ALL_SPECS.flatMap((spec) => allFunctions(spec).map(([key]) => `${pascalCase(spec.name)}${key}`));

/** Every policy statement of a function's role, by `<ConstructId><Key>`. */
function statementsOf(template: Template, functionId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(`${functionId}Role`))
    .flatMap(([, policy]) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

type Policy = { Properties: { PolicyDocument: { Statement: Statement[] } } };
const allStatements = (template: Template): Statement[] =>
  (Object.values(template.findResources('AWS::IAM::Policy')) as Policy[]).flatMap((p) => p.Properties.PolicyDocument.Statement);

/** The functions (as `<ConstructId><Key>`) whose roles allow the action. */
const allowedTo = (template: Template, action: string): string[] =>
  ALL_FUNCTIONS.filter((id) => statementsOf(template, id).some((s) => actions(s).includes(action)));

describe('Assure stack', () => {
  const fleet = exampleFleet();
  const serviceArn = (ecsName: string): string => `arn:aws:ecs:eu-west-2:111122223333:service/trading-prod/${ecsName}`;
  const allServiceArns = Object.values(fleet.services)
    .map((s) => serviceArn(s.ecsServiceName))
    .sort();
  const tradingServiceArns = tradingServices(fleet)
    .map((id) => serviceArn(fleet.services[id]?.ecsServiceName as string))
    .sort();
  let template: Template;
  let stack: AssureStack;

  beforeAll(() => {
    ({ stack, template } = synthesize(fleet));
  });

  it('builds one state machine per ASL file, substituting every placeholder and no other', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine') as Record<
      string,
      { Properties: { StateMachineName: string; DefinitionSubstitutions: Record<string, unknown> } }
    >;
    expect(Object.keys(machines)).toHaveLength(WORKFLOW_SPECS.length);
    for (const spec of WORKFLOW_SPECS) {
      const expected = placeholders(readAsl(spec.aslFile));
      const fromSpec = [...Object.keys(spec.functions).map(functionArnPlaceholder), ...Object.keys(spec.substitutions?.(testConfig) ?? {})].sort();
      expect(expected, spec.name).toEqual(fromSpec);
      const machine = Object.values(machines).find((m) => m.Properties.StateMachineName === `assure-prod-${spec.name}`);
      expect(machine, spec.name).toBeDefined();
      expect(Object.keys(machine?.Properties.DefinitionSubstitutions ?? {}).sort(), spec.name).toEqual(expected);
    }
  });

  it('runs every function on Node.js 24 on ARM64, traced, with the Assure configuration', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, { Properties: Record<string, unknown> & { FunctionName: string } }>;
    expect(Object.keys(functions)).toHaveLength(ALL_FUNCTIONS.length);
    for (const fn of Object.values(functions)) {
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
            ASSURE_STATE_TABLE: 'assure-prod-control-state',
            ASSURE_HALT_PARAMETER: '/assure/prod/halt',
            ASSURE_HALT_STATE_MACHINE: 'arn:aws:states:eu-west-2:111122223333:stateMachine:assure-prod-halt',
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      });
      expect(fn.Properties.FunctionName.length).toBeLessThanOrEqual(64);
    }
    // Only the functions that call tasks directly (health checks, the admin API) run in the fleet's VPC.
    const inVpc = Object.values(functions)
      .filter((f) => f.Properties.VpcConfig)
      .map((f) => f.Properties.FunctionName)
      .sort();
    expect(inVpc).toEqual([
      'assure-prod-deploy-judge-deployment-hook',
      'assure-prod-deploy-run-health-gate',
      'assure-prod-halt-send-halt-commands',
      'assure-prod-halt-verify-halt',
      'assure-prod-resume-check-resume-readiness',
      'assure-prod-resume-send-resume-commands',
      'assure-prod-rollback-run-health-gate',
      'assure-prod-rotate-secret-run-health-gate',
    ]);
  });

  it('lets only rollout, rollback, hard stop, capacity restore and scaling update ECS services; the halt and resume roles only trading services, scaling only services that scale', () => {
    expect(allowedTo(template, 'ecs:UpdateService').sort()).toEqual(
      [
        'DeployRollBackDeployment',
        'DeployStartDeployment',
        'HaltHardStopServices',
        'ResumeRestoreCapacity',
        'RollbackRollBackService',
        'RotateSecretRestartConsumerTasks',
        'ScaleApplyScalingDecision',
      ].sort(),
    );
    const updated = (id: string): string[] =>
      statementsOf(template, id)
        .filter((s) => actions(s).includes('ecs:UpdateService'))
        .flatMap((s) => resources(s) as string[])
        .sort();
    for (const id of ['DeployRollBackDeployment', 'DeployStartDeployment', 'RollbackRollBackService']) expect(updated(id), id).toEqual(allServiceArns);
    for (const id of ['HaltHardStopServices', 'ResumeRestoreCapacity']) expect(updated(id), id).toEqual(tradingServiceArns);
    const scalingServiceArns = Object.values(fleet.services)
      .filter((s) => s.scaling)
      .map((s) => serviceArn(s.ecsServiceName));
    expect(scalingServiceArns).toEqual([serviceArn('order-gateway')]);
    expect(updated('ScaleApplyScalingDecision')).toEqual(scalingServiceArns);
    // A rotation restarts the managed secrets' consumers, and only them.
    const consumerArns = [...new Set(Object.values(fleet.secrets).flatMap((s) => s.consumers))]
      .map((id) => serviceArn(fleet.services[id]?.ecsServiceName as string))
      .sort();
    expect(updated('RotateSecretRestartConsumerTasks')).toEqual(consumerArns);
    expect(consumerArns.length).toBeLessThan(allServiceArns.length);
    expect(tradingServiceArns.length).toBeLessThan(allServiceArns.length);
  });

  it('lets only the rollbacks and the halt (for deploys it stops) stop an ECS service deployment, only on the fleet cluster', () => {
    const stoppers = ['DeployRollBackDeployment', 'HaltStopDeployExecutions', 'RollbackRollBackService'];
    expect(allowedTo(template, 'ecs:StopServiceDeployment').sort()).toEqual(stoppers);
    for (const id of stoppers) {
      const stop = statementsOf(template, id).find((s) => actions(s).includes('ecs:StopServiceDeployment'));
      expect(JSON.stringify(stop?.Resource), id).toContain(':service-deployment/trading-prod/*');
      // The Service Authorization Reference lists the service as a required resource too.
      expect(JSON.stringify(stop?.Resource), id).toContain(':service/trading-prod/order-gateway');
    }
  });

  it('lets the registering function register revisions of the fleet’s own task-definition families only', () => {
    const register = statementsOf(template, 'DeployRegisterTaskDefinition').find((s) => actions(s).includes('ecs:RegisterTaskDefinition')) as Statement;
    expect(resources(register)).not.toContain('*');
    expect(resources(register)).toHaveLength(Object.keys(fleet.services).length);
    expect(JSON.stringify(resources(register))).toContain(':task-definition/order-gateway:*');
  });

  it('lets only the registering function pass roles to ECS tasks, and only the fleet’s task and execution roles', () => {
    const roleArns = Object.values(fleet.services)
      .flatMap((s) => [s.taskRoleName, s.executionRoleName])
      .filter((r): r is string => r !== undefined)
      .map((r) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::111122223333:role/${r}`]] }));
    // Start deployment, the rollbacks and the consumer restart pass roles to ECS itself (test/infra/deploy-hook.test.ts scopes them).
    expect(allowedTo(template, 'iam:PassRole').sort()).toEqual([
      'DeployRegisterTaskDefinition',
      'DeployRollBackDeployment',
      'DeployStartDeployment',
      'RollbackRollBackService',
      'RotateSecretRestartConsumerTasks',
    ]);
    const statement = statementsOf(template, 'DeployRegisterTaskDefinition').find((s) => actions(s).includes('iam:PassRole')) as Statement;
    expect(resources(statement)).toEqual(expect.arrayContaining(roleArns));
    expect(resources(statement)).toHaveLength(new Set(roleArns.map((r) => JSON.stringify(r))).size);
    expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  it('lets only the admin-API callers read the admin token, and only that secret', () => {
    // And the rotation function, which Secrets Manager invokes (test/infra/rotate-secret.test.ts scopes it).
    expect(allowedTo(template, 'secretsmanager:GetSecretValue').sort()).toEqual([
      'HaltSendHaltCommands',
      'HaltVerifyHalt',
      'ResumeSendResumeCommands',
      'RotateSecretRotateSecretValue',
    ]);
    for (const id of ['HaltSendHaltCommands', 'HaltVerifyHalt', 'ResumeSendResumeCommands']) {
      const read = statementsOf(template, id).filter((s) => actions(s).includes('secretsmanager:GetSecretValue'));
      expect(read).toHaveLength(1);
      expect(JSON.stringify(read[0]?.Resource)).toContain(`:secret:${fleet.halt?.adminTokenSecret}-??????`);
    }
  });

  it('lets the router alone start rollbacks, halts and scaling, and only those state machines', () => {
    // Besides the rotation-event handler, which may start the rotate-secret state machine only (test/infra/rotate-secret.test.ts),
    // and the push handler, which may start the release state machine only (test/infra/release.test.ts),
    // and the resume request function, which may start the resume state machine only (test/infra/approval-endpoints.test.ts).
    expect(allowedTo(template, 'states:StartExecution').sort()).toEqual([
      'AlarmRoutingRouteAlarmEvent',
      'ReleaseStartReleaseFromPush',
      'ResumeRequestResume',
      'RotateSecretStartRotationFromEvent',
    ]);
    const start = statementsOf(template, 'AlarmRoutingRouteAlarmEvent').find((s) => actions(s).includes('states:StartExecution')) as Statement;
    expect(JSON.stringify(resources(start))).toContain(':stateMachine:assure-prod-rollback');
    expect(JSON.stringify(resources(start))).toContain(':stateMachine:assure-prod-halt');
    expect(JSON.stringify(resources(start))).toContain(':stateMachine:assure-prod-scale');
    expect(resources(start)).toHaveLength(3);
    // Stopping executions: the halt (every running deploy) and the rollback (the deploy it replaces), deploy executions only.
    expect(allowedTo(template, 'states:StopExecution').sort()).toEqual(['HaltStopDeployExecutions', 'RollbackStopDeployForRollback']);
    for (const id of ['HaltStopDeployExecutions', 'RollbackStopDeployForRollback']) {
      const stop = statementsOf(template, id).find((s) => actions(s).includes('states:StopExecution'));
      expect(JSON.stringify(stop?.Resource)).toContain(':execution:assure-prod-deploy:*');
    }
  });

  it('lets only the flag-setting functions write the halt flag', () => {
    expect(allowedTo(template, 'ssm:PutParameter').sort()).toEqual(['AlarmRoutingRouteAlarmEvent', 'HaltSetHaltFlag', 'ResumeClearHaltFlag']);
  });

  it('never grants a wildcard action, and allows "*" resources only where AWS supports nothing narrower', () => {
    const allowedOnStar = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'ecs:DescribeTaskDefinition',
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
      'secretsmanager:GetRandomPassword',
      // The canary judge: both are wildcard-only in the Service Authorization Reference.
      'elasticloadbalancing:DescribeRules',
      'cloudwatch:GetMetricStatistics',
    ]);
    for (const statement of allStatements(template)) {
      for (const action of actions(statement)) expect(action).not.toMatch(/\*/);
      if (resources(statement).includes('*')) {
        for (const action of actions(statement)) expect(allowedOnStar, action).toContain(action);
      }
    }
    for (const id of ['DeployRunHealthGate', 'HaltVerifyHalt', 'ResumeCheckResumeReadiness']) {
      const listTasks = statementsOf(template, id).find((s) => actions(s).includes('ecs:ListTasks'));
      expect(listTasks?.Condition, id).toEqual({ ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:eu-west-2:111122223333:cluster/trading-prod' } });
    }
  });

  it('keeps the audit trail append-only for every function', () => {
    const auditArn = { 'Fn::GetAtt': [stack.getLogicalId(stack.node.findChild('auditTable').node.defaultChild as never), 'Arn'] };
    const onAudit = allStatements(template).filter((s) => resources(s).some((r) => JSON.stringify(r) === JSON.stringify(auditArn)));
    expect(onAudit.length).toBeGreaterThan(ALL_FUNCTIONS.length / 2);
    for (const statement of onAudit) expect(['dynamodb:PutItem', 'dynamodb:Query']).toEqual(expect.arrayContaining(actions(statement)));
  });

  it("denies changing audit records to everyone, appending to all but the stack's function roles, and deleting the table", () => {
    const audit = stack.node.findChild('auditTable').node.defaultChild as never;
    const table = template.toJSON().Resources[stack.getLogicalId(audit)] as {
      Properties: { Replicas: { ResourcePolicy: { PolicyDocument: { Statement: Record<string, unknown>[] } } }[] };
    };
    const statements = table.Properties.Replicas[0]?.ResourcePolicy.PolicyDocument.Statement ?? [];
    expect(statements.every((st) => st.Effect === 'Deny' && JSON.stringify(st.Principal) === JSON.stringify({ AWS: '*' }) && st.Resource === '*')).toBe(true);
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));
    expect(bySid.AuditRecordsAreNeverChanged?.Action).toEqual([
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:PartiQLUpdate',
      'dynamodb:PartiQLDelete',
    ]);
    expect(bySid.AuditTableIsNeverDeleted?.Action).toBe('dynamodb:DeleteTable');
    const appenders = bySid.OnlyAssureAppendsAuditRecords as {
      Action: string[];
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [string, string] }[] } };
    };
    expect(appenders.Action).toEqual(['dynamodb:PutItem', 'dynamodb:PartiQLInsert']);
    const allowed = appenders.Condition.ArnNotEquals['aws:PrincipalArn'].map((arn) => arn['Fn::GetAtt'][0]).sort();
    const functionRoles = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((fn) => (fn.Properties as { Role: { 'Fn::GetAtt': [string, string] } }).Role['Fn::GetAtt'][0])
      .sort();
    expect(allowed).toEqual([...new Set(functionRoles)]);
  });

  it('routes ECS deployment events, alarm state changes and interrupted deploys with the patterns the sandbox matches, each with a dead-letter queue', () => {
    const context = { account: '111122223333', region: 'eu-west-2' };
    const patterns = [ecsDeploymentEventPattern(fleet, context), alarmEventPattern(fleet), deployExecutionEndPattern(fleet, context)];
    for (const pattern of patterns) {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: pattern,
        Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } })],
      });
    }
    const alarmNames = (alarmEventPattern(fleet).detail as { alarmName: unknown[] }).alarmName;
    expect(alarmNames).toEqual([...classifiedAlarms(fleet).map((a) => a.alarm.name), { prefix: 'prod-' }]);
    expect(ecsDeploymentEventPattern(fleet, context).resources).toContain(serviceArn('order-gateway'));
    // Each dead-letter queue has an alarm on its depth that pages.
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    // One per workflow with rules, one for the scale workflow's EventBridge Scheduler schedules, and one for the audit stream's archiver.
    expect(queues).toHaveLength(ALL_SPECS.filter((s) => s.rules.length > 0).length + 2);
    const depthAlarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'ApproximateNumberOfMessagesVisible' } }),
    ) as {
      Properties: { AlarmActions: unknown[]; Threshold: number };
    }[];
    expect(depthAlarms).toHaveLength(queues.length);
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    for (const alarm of depthAlarms) {
      expect(alarm.Properties.Threshold).toBe(0);
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
    // Pages only when a person must act: no alarm pages on a recovery or on INSUFFICIENT_DATA.
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[]) {
      expect(alarm.Properties.OKActions ?? []).toEqual([]);
      expect(alarm.Properties.InsufficientDataActions ?? []).toEqual([]);
    }
  });

  it('pages through one encrypted SNS topic, which the halt state machine publishes to itself', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'assure-prod-paging', KmsMasterKeyId: Match.anyValue() });
    for (const email of fleet.paging.emails) template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    const haltMachineRole = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('HaltStateMachineRole'))?.[1] as Policy;
    expect(haltMachineRole.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId } }));
  });

  it('pages through topics whose customer-managed key lets CloudWatch alarms in this account publish', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    // Every action of every alarm, in any state: each must be a topic of this stack (an ARN from elsewhere could not be checked).
    type AlarmActions = Partial<Record<'AlarmActions' | 'OKActions' | 'InsufficientDataActions', unknown[]>>;
    const alarmActions = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).flatMap(([alarmId, alarm]) => {
      const props = (alarm as { Properties: AlarmActions }).Properties;
      return [...(props.AlarmActions ?? []), ...(props.OKActions ?? []), ...(props.InsufficientDataActions ?? [])].map((action) => [alarmId, action] as const);
    });
    expect(alarmActions.length).toBeGreaterThan(0);
    let topicActions = 0;
    for (const [alarmId, action] of alarmActions) {
      const topicId = (action as { Ref?: string }).Ref;
      expect(topicId && resources[topicId]?.Type, `${alarmId}: ${JSON.stringify(action)}`).toBe('AWS::SNS::Topic');
      if (!topicId) continue;
      topicActions += 1;
      // A customer-managed key in this stack (the AWS-managed alias/aws/sns cannot grant CloudWatch).
      const keyRef = resources[topicId]?.Properties?.KmsMasterKeyId as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const keyId = keyRef?.['Fn::GetAtt']?.[0];
      expect(keyId && resources[keyId]?.Type, `${alarmId} → ${topicId}`).toBe('AWS::KMS::Key');
      const key = resources[keyId as string]?.Properties as {
        EnableKeyRotation?: boolean;
        KeyPolicy: { Statement: Statement[] & { Principal?: unknown }[] };
      };
      expect(key.EnableKeyRotation, keyId).toBe(true);
      const grants = key.KeyPolicy.Statement.filter(
        (st) => st.Effect === 'Allow' && JSON.stringify((st as { Principal?: unknown }).Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
      );
      expect(grants, keyId).toHaveLength(1);
      const grant = grants[0] as Statement;
      // What publishing to an encrypted topic needs (an action pattern in a key policy matches as in IAM).
      const allows = (needed: string): boolean => actions(grant).some((a) => new RegExp(`^${a.replace(/\*/g, '.*')}$`).test(needed));
      expect(allows('kms:Decrypt') && allows('kms:GenerateDataKey'), keyId).toBe(true);
      expect(grant.Condition).toEqual({
        StringEquals: { 'aws:SourceAccount': '111122223333' },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-2:111122223333:alarm:*']] } },
      });
    }
    expect(topicActions).toBeGreaterThan(0);
    // Whoever else publishes (functions, the halt state machine) may use the key for exactly that.
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    const keyId = (resources[topicId]?.Properties?.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const haltMachineRole = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('HaltStateMachineRole'))?.[1] as Policy;
    expect(haltMachineRole.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId } }));
    expect(haltMachineRole.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } }),
    );
  });

  it("creates the fleet's rollback, halt, notify and scaling alarms from the fleet file", () => {
    const latency = fleetAlarms(fleet).find((a) => a.alarm.name === 'prod-order-gateway-latency-p99')?.alarm;
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
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { AlarmName?: string } }).Properties.AlarmName,
    );
    const kinds = new Set(classifiedAlarms(fleet).map((a) => a.kind));
    expect([...kinds].sort()).toEqual(['halt', 'notify', 'rollback', 'scale']);
    for (const { alarm } of classifiedAlarms(fleet)) expect(names).toContain(alarm.name);
  });

  it('creates one EventBridge Scheduler schedule per scheduled-capacity entry, in its time zone, whose role may start the scale state machine only', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule') as Record<
      string,
      { Properties: Record<string, unknown> & { Target: { Arn: unknown; Input: string; RoleArn: unknown; DeadLetterConfig?: unknown } } }
    >;
    const byName = Object.fromEntries(Object.values(schedules).map((s) => [s.Properties.Name as string, s.Properties]));
    expect(Object.keys(byName).sort()).toEqual(['assure-prod-scale-order-gateway-london-close', 'assure-prod-scale-order-gateway-london-open']);
    const open = byName['assure-prod-scale-order-gateway-london-open'];
    expect(open).toMatchObject({
      ScheduleExpression: 'cron(45 7 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/London',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    expect(JSON.parse(open?.Target.Input ?? '{}')).toEqual({
      service: 'order-gateway',
      desiredCount: 6,
      source: 'schedule:london-open',
      requestedBy: 'scheduler',
    });
    expect(JSON.stringify(open?.Target.Arn)).toContain('ScaleStateMachine');
    expect(open?.Target.DeadLetterConfig).toBeDefined();
    // The schedules' role: assumed by Scheduler for this account, allowed StartExecution on the scale state machine alone.
    const roleId = JSON.stringify(open?.Target.RoleArn).match(/"(Scale\w*SchedulerRole\w*)"/)?.[1] ?? '';
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
    }[];
    const statements = policies.filter((p) => p.Properties.Roles.some((r) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    // (and may put an undeliverable start in the schedules' dead-letter queue, and use the state machine's key for it).
    expect(new Set(statements.flatMap(actions))).toEqual(new Set(['states:StartExecution', 'sqs:SendMessage', 'kms:Decrypt', 'kms:GenerateDataKey']));
    const keyUse = statements.find((st) => actions(st).includes('kms:GenerateDataKey'));
    expect(JSON.stringify(keyUse?.Condition)).toContain(':stateMachine:assure-prod-scale');
    expect(JSON.stringify(keyUse?.Condition)).not.toContain(':stateMachine:assure-prod-deploy');
    const starts = statements.filter((st) => actions(st).includes('states:StartExecution')).flatMap(resources);
    expect(new Set(starts.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(JSON.stringify(starts)).toContain('ScaleStateMachine');
    const sends = statements.filter((st) => actions(st).includes('sqs:SendMessage')).flatMap(resources);
    expect(JSON.stringify(sends)).toContain('ScaleScheduleDeadLetters');
  });

  it('declares grants for every handler, once, and none for a handler no workflow has', () => {
    const handlerNames = new Set(ALL_SPECS.flatMap((spec) => allFunctions(spec).map(([, definition]) => definition.name)));
    expect([...handlerNames].sort()).toEqual(Object.keys(HANDLER_GRANTS).sort());
  });

  it('lets the deployment hook read its deployment, tasks, listener rules and metrics, write approvals and page, and nothing else', () => {
    const hook = statementsOf(template, 'DeployJudgeDeploymentHook');
    expect(new Set(hook.flatMap(actions))).toEqual(
      new Set([
        'ecs:DescribeServiceDeployments',
        'ecs:DescribeServiceRevisions',
        'ecs:ListTasks',
        'ecs:DescribeTasks',
        'elasticloadbalancing:DescribeRules',
        'cloudwatch:GetMetricStatistics',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        // Appending to the audit trail reads its subject's chain head.
        'dynamodb:Query',
        'sns:Publish',
        // The paging topic's key, for publishing to the encrypted topic.
        'kms:Decrypt',
        'kms:GenerateDataKey',
        // Logs, tracing and the VPC attachment, as for every function in the VPC.
        ...hook.flatMap(actions).filter((a) => /^(xray|ec2|logs):/.test(a)),
      ]),
    );
    const deployments = hook.filter((st) => actions(st).includes('ecs:DescribeServiceDeployments')).flatMap(resources);
    expect(JSON.stringify(deployments)).toContain('service-deployment/trading-prod/*');
    expect(allowedTo(template, 'elasticloadbalancing:DescribeRules')).toEqual(['DeployJudgeDeploymentHook']);
    const decide = statementsOf(template, 'DeployDecideReleaseApproval');
    expect(new Set(decide.flatMap(actions))).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        ...decide.flatMap(actions).filter((a) => /^(xray|logs):/.test(a)),
      ]),
    );
  });

  it('lets the ECS deployment-event handler complete the waits of exactly the workflows that await deployment outcomes', () => {
    const sends = statementsOf(template, 'DeployHandleDeploymentEvent').filter((st) => actions(st).includes('states:SendTaskSuccess'));
    const machines = JSON.stringify(sends.flatMap(resources)).match(/stateMachine:assure-prod-[a-z-]+/g) ?? [];
    expect(machines.sort()).toEqual(['stateMachine:assure-prod-deploy', 'stateMachine:assure-prod-rollback', 'stateMachine:assure-prod-rotate-secret']);
  });

  it('logs every state machine without execution data and traces it', () => {
    for (const spec of WORKFLOW_SPECS) {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: `assure-prod-${spec.name}`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: Match.anyValue() },
      });
    }
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup')) as { Properties: { RetentionInDays?: number } }[]) {
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });

  it('keeps the tables with point-in-time recovery; the audit trail and the control state outlive the stack', () => {
    const tables = template.findResources('AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(4);
    for (const table of Object.values(tables) as { Properties: { Replicas: { PointInTimeRecoverySpecification?: unknown }[] } }[]) {
      expect(table.Properties.Replicas[0]?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    // Approvals, releases and task tokens (control state and callbacks) survive a stack deletion, as the audit trail does.
    for (const name of ['assure-prod-audit-trail', 'assure-prod-control-state', 'assure-prod-task-callbacks']) {
      template.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({ TableName: name, Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })] }),
      });
    }
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

  it('fails cdk-nag on a new "*" resource in any role, and confines "*" to actions that support nothing narrower', () => {
    const fresh = build(fleet);
    const findings = (): string[] =>
      new AwsSolutionsChecks()
        .validateScope(fresh)
        .violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'))
        .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(findings()).toEqual([]);
    // A wildcard-only action on "*" goes to the role's acknowledged policy of such actions: still clean.
    const hook = fresh.workflows.deploy.functions.JudgeDeploymentHook as LambdaFunction;
    hook.addToRolePolicy(new PolicyStatement({ actions: ['ecs:DescribeTaskDefinition'], resources: ['*'] }));
    expect(findings()).toEqual([]);
    // Any other action on "*", in a function's role, a state machine's role or a role of its own: each fails where it is.
    hook.addToRolePolicy(new PolicyStatement({ actions: ['ecs:DescribeServices', 'ecs:DescribeTaskDefinition'], resources: ['*'] }));
    fresh.workflows.halt.stateMachine?.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: ['*'] }));
    new Role(fresh, 'Extra', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] }),
    );
    expect(findings().sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*] Test/Deploy/JudgeDeploymentHook/Role/DefaultPolicy/Resource',
      'AwsSolutions-IAM5[Resource::*] Test/Extra/DefaultPolicy/Resource',
      'AwsSolutions-IAM5[Resource::*] Test/Halt/StateMachineRole/DefaultPolicy/Resource',
    ]);
    // And no role holds "*" for anything else anywhere: every acknowledged "*" policy holds wildcard-only actions alone.
    const confined = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.includes(WILDCARD_ONLY_POLICY_ID));
    expect(confined.length).toBeGreaterThan(ALL_FUNCTIONS.length);
    for (const [, policy] of confined as [string, Policy][]) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        expect(statement.Resource).toBe('*');
        for (const action of actions(statement)) expect(Object.keys(WILDCARD_ONLY_ACTIONS)).toContain(action);
      }
    }
  });

  it('lets every service invoke a function only from the resource it names (SourceArn), or its account where AWS has no ARN', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string }>;
    const permissions = Object.entries(template.findResources('AWS::Lambda::Permission')) as [
      string,
      { Properties: { Principal: string; SourceArn?: unknown; SourceAccount?: unknown } },
    ][];
    const byService = permissions.filter(([, p]) => typeof p.Properties.Principal === 'string' && p.Properties.Principal.endsWith('.amazonaws.com'));
    expect(byService.length).toBeGreaterThan(0);
    for (const [id, { Properties: p }] of byService) {
      expect(p.SourceArn ?? p.SourceAccount, id).toBeDefined();
      if (p.Principal === 'events.amazonaws.com') {
        // The rule that targets the function, in this stack.
        const rule = (p.SourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
        expect(rule && resources[rule]?.Type, id).toBe('AWS::Events::Rule');
      }
      if (p.Principal === 'secretsmanager.amazonaws.com') {
        expect(JSON.stringify(p.SourceArn), id).toMatch(/:secretsmanager:eu-west-2:111122223333:secret:[^*]+-\?{6}"/);
        expect(p.SourceAccount, id).toBe('111122223333');
      }
    }
    // Every rule that targets a function has its permission.
    const ruleTargets = Object.entries(template.findResources('AWS::Events::Rule')).filter(([, r]) => JSON.stringify(r).includes('Function'));
    for (const [ruleId] of ruleTargets) {
      expect(
        byService.some(([, { Properties: p }]) => JSON.stringify(p.SourceArn) === JSON.stringify({ 'Fn::GetAtt': [ruleId, 'Arn'] })),
        ruleId,
      ).toBe(true);
    }
  });

  it("encrypts every log group and state machine with a rotated customer key that CloudWatch Logs may use for Assure's log groups only", () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const keyOf = (ref: unknown): string | undefined => (ref as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    const groups = Object.entries(template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(ALL_FUNCTIONS.length + WORKFLOW_SPECS.length);
    const keys = new Set(groups.map(([id, g]) => keyOf((g as { Properties: { KmsKeyId?: unknown } }).Properties.KmsKeyId) ?? `none for ${id}`));
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { EncryptionConfiguration?: { Type: string; KmsKeyId: unknown } };
    }[];
    for (const machine of machines) {
      expect(machine.Properties.EncryptionConfiguration?.Type).toBe('CUSTOMER_MANAGED_KMS_KEY');
      keys.add(keyOf(machine.Properties.EncryptionConfiguration?.KmsKeyId) ?? 'none for a state machine');
    }
    expect(keys.size).toBe(1);
    const [keyId] = [...keys] as [string];
    expect(resources[keyId]?.Type).toBe('AWS::KMS::Key');
    const key = resources[keyId]?.Properties as { EnableKeyRotation: boolean; KeyPolicy: { Statement: (Statement & { Principal?: unknown })[] } };
    expect(key.EnableKeyRotation).toBe(true);
    const logs = key.KeyPolicy.Statement.filter((st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'logs.eu-west-2.amazonaws.com' }));
    expect(logs).toHaveLength(1);
    expect(actions(logs[0] as Statement).sort()).toEqual(['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']);
    expect(JSON.stringify(logs[0]?.Condition)).toBe(
      JSON.stringify({
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': [
            'arn:aws:logs:eu-west-2:111122223333:log-group:/aws/lambda/assure-prod-*',
            'arn:aws:logs:eu-west-2:111122223333:log-group:/aws/vendedlogs/states/assure-prod-*',
          ].map((arn) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, arn.slice('arn:aws'.length)]] })),
        },
      }),
    );
    // No principal may create a grant on either key except for an AWS resource or as an AWS service.
    for (const [id, k] of Object.entries(template.findResources('AWS::KMS::Key'))) {
      expect((k as { Properties: { KeyPolicy: { Statement: unknown[] } } }).Properties.KeyPolicy.Statement, id).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'kms:CreateGrant',
          Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        }),
      );
    }
    // Whoever starts, reads or answers an execution may use the key for those state machines alone.
    const keyUse = (id: string): string =>
      JSON.stringify(
        statementsOf(template, id).find((st) => actions(st).includes('kms:GenerateDataKey') && JSON.stringify(st.Resource).includes(keyId))?.Condition,
      );
    expect(keyUse('AlarmRoutingRouteAlarmEvent')).toContain(':stateMachine:assure-prod-halt');
    expect(keyUse('AlarmRoutingRouteAlarmEvent')).toContain(':stateMachine:assure-prod-deploy"'); // it ends a soak's wait
    expect(keyUse('AlarmRoutingRouteAlarmEvent')).not.toContain(':stateMachine:assure-prod-release"');
    expect(keyUse('DeployHandleDeploymentEvent')).toContain(':stateMachine:assure-prod-rotate-secret');
    expect(keyUse('DeployJudgeDeploymentHook')).toBe(undefined);
  });

  it('synthesises without an account or region in the fleet file (deploy-time environment)', () => {
    const { account: _account, region: _region, ...agnostic } = fleet;
    const { template: agnosticTemplate } = synthesize(agnostic as Fleet);
    const rule = Object.values(agnosticTemplate.findResources('AWS::Events::Rule')).find((r) => JSON.stringify(r).includes('ECS Deployment State Change'));
    expect(JSON.stringify(rule)).toContain('AWS::AccountId');
  });
});
