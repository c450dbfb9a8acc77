/**
 * The deploy workflow in AWS: its Lambda functions, the state machine from
 * state-machines/deploy.asl.json, the EventBridge rules that feed it, and least-
 * privilege grants scoped to the fleet's cluster, services, task roles and alarms.
 */
import { ArnFormat, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { type EventPattern, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStringParameter } from 'aws-cdk-lib/aws-ssm';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type AssureConfig, configToEnvironment } from '../../functions/shared/config';
import type { EventPattern as PatternObject } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import { fleetAlarms } from '../fleet/fleet';
import { type AccountContext, ecsClusterArn, ecsServiceArn, functionName, stateMachineName } from '../naming';
import { aslPath } from '../workflows/asl';
import { deployWorkflow } from '../workflows/deploy-workflow';
import { functionArnPlaceholder } from '../workflows/workflow-spec';
import { HandlerFunction } from './handler-function';
import { acknowledgeWildcards, nagArn } from './nag';

export interface DeployWorkflowProps {
  /** The resolved fleet the workflow deploys. */
  readonly fleet: Fleet;
  /** Resource names the handlers use (tables, halt parameter). */
  readonly config: Omit<AssureConfig, 'region'>;
  /** The resolved fleet as a JSON file, bundled beside each handler. */
  readonly bundledFleetPath: string;
  readonly lockTable: ITable;
  readonly callbackTable: ITable;
  readonly auditTable: ITable;
  readonly haltParameter: IStringParameter;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Longest a deploy execution may run. @default Duration.hours(6) */
  readonly executionTimeout?: Duration;
}

type FunctionKey = keyof typeof deployWorkflow.functions | keyof typeof deployWorkflow.eventHandlers;

export class DeployWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly functions: Readonly<Record<FunctionKey, IFunction>>;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: DeployWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { fleet } = props;
    const context: AccountContext = { account: stack.account, region: stack.region };
    const environment = configToEnvironment(props.config);
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const machineName = stateMachineName(fleet.environment, deployWorkflow.name);
    // Built from the known name, not the resource: the functions' policies must not depend on the state machine that depends on them.
    const stateMachineArn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: machineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    const network = fleet.network
      ? {
          // Subnets are given explicitly, so no availability-zone lookup (and no credentials) is needed at synth.
          vpc: Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: fleet.network.vpcId, availabilityZones: [Fn.select(0, Fn.getAzs())] }),
          subnets: {
            subnets: fleet.network.subnetIds.map((s, i) => {
              const subnet = Subnet.fromSubnetId(this, `Subnet${i}`, s);
              Validations.of(subnet).acknowledge({
                id: 'annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
                reason: 'The health-gate function only attaches to this subnet; nothing reads its route table.',
              });
              return subnet;
            }),
          },
          securityGroups: fleet.network.securityGroupIds.map((g, i) => SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, g, { mutable: false })),
        }
      : undefined;

    const all = { ...deployWorkflow.functions, ...deployWorkflow.eventHandlers };
    const handlers = Object.fromEntries(
      Object.entries(all).map(([key, definition]) => [
        key,
        new HandlerFunction(this, key, {
          definition,
          functionName: functionName(fleet.environment, definition.name),
          environment,
          bundledFleetPath: props.bundledFleetPath,
          logRetention,
          ...(key === 'RunHealthGate' && network ? { vpc: network } : {}),
        }),
      ]),
    ) as unknown as Record<FunctionKey, HandlerFunction>;
    const functions = Object.fromEntries(Object.entries(handlers).map(([key, h]) => [key, h.function])) as unknown as Record<FunctionKey, IFunction>;
    this.functions = functions;

    // --- grants: each function gets exactly what its core calls ---
    const serviceArns = Object.values(fleet.services).map((s) => ecsServiceArn(context, fleet.cluster, s.ecsServiceName));
    const alarmArns = fleetAlarms(fleet).map(({ alarm }) =>
      stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarm.name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    // Table grants name the table only (the L2 grant adds `/index/*`, which these calls never touch).
    const grantTable = (table: ITable, fn: IFunction, ...actions: string[]): void => {
      fn.addToRolePolicy(new PolicyStatement({ actions, resources: [table.tableArn] }));
    };
    // Append-only: Assure never updates or deletes audit records.
    const appendAudit = (fn: IFunction): void => grantTable(props.auditTable, fn, 'dynamodb:PutItem');
    const describeServices = new PolicyStatement({ actions: ['ecs:DescribeServices'], resources: serviceArns });
    const updateServices = new PolicyStatement({ actions: ['ecs:UpdateService'], resources: serviceArns });
    const taskResponses = new PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [stateMachineArn] });
    const describeAlarms = new PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns });

    appendAudit(functions.ValidateDeployRequest);

    grantTable(props.lockTable, functions.AcquireDeployLock, 'dynamodb:PutItem', 'dynamodb:GetItem');
    appendAudit(functions.AcquireDeployLock);

    props.haltParameter.grantRead(functions.CheckDeployGuards);
    functions.CheckDeployGuards.addToRolePolicy(describeServices);
    appendAudit(functions.CheckDeployGuards);

    const roleArns = Object.values(fleet.services).flatMap((s) =>
      [s.taskRoleName, s.executionRoleName]
        .filter((r): r is string => r !== undefined)
        .map((r) => stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: r })),
    );
    functions.RegisterTaskDefinition.addToRolePolicy(
      // Neither action supports resource-level permissions (AWS requires "*").
      new PolicyStatement({ actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], resources: ['*'] }),
    );
    functions.RegisterTaskDefinition.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: Object.values(fleet.services).map((s) =>
          stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${s.ecsServiceName}:*` }),
        ),
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
    );
    functions.RegisterTaskDefinition.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [...new Set(roleArns)],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    appendAudit(functions.RegisterTaskDefinition);
    acknowledgeWildcards(
      handlers.RegisterTaskDefinition,
      Object.values(fleet.services).map((s) => nagArn(this, 'ecs', `task-definition/${s.ecsServiceName}:*`)),
      "ecs:TagResource at registration, on the fleet's own task-definition families: the revision number is assigned by ECS.",
    );
    acknowledgeWildcards(handlers.RegisterTaskDefinition, ['*'], 'ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition support no resource-level permissions.');

    for (const key of ['StartRollingDeployment', 'RollBackDeployment'] as const) {
      functions[key].addToRolePolicy(describeServices);
      functions[key].addToRolePolicy(updateServices);
      appendAudit(functions[key]);
    }

    grantTable(props.callbackTable, functions.AwaitDeploymentOutcome, 'dynamodb:UpdateItem');
    functions.AwaitDeploymentOutcome.addToRolePolicy(taskResponses);
    functions.AwaitDeploymentOutcome.addToRolePolicy(describeServices);

    grantTable(props.callbackTable, functions.HandleDeploymentEvent, 'dynamodb:UpdateItem');
    functions.HandleDeploymentEvent.addToRolePolicy(taskResponses);

    functions.RunHealthGate.addToRolePolicy(describeServices);
    functions.RunHealthGate.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': ecsClusterArn(context, fleet.cluster) } },
      }),
    );
    functions.RunHealthGate.addToRolePolicy(
      new PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${fleet.cluster}/*` })] }),
    );
    functions.RunHealthGate.addToRolePolicy(describeAlarms);
    appendAudit(functions.RunHealthGate);
    acknowledgeWildcards(handlers.RunHealthGate, ['*'], "ecs:ListTasks supports no resource-level permissions; it is conditioned on the fleet's cluster.");
    acknowledgeWildcards(
      handlers.RunHealthGate,
      [nagArn(this, 'ecs', `task/${fleet.cluster}/*`)],
      "ecs:DescribeTasks on the fleet cluster's tasks, whose ids ECS assigns.",
    );

    grantTable(props.callbackTable, functions.StartSoak, 'dynamodb:UpdateItem');
    functions.StartSoak.addToRolePolicy(taskResponses);
    functions.StartSoak.addToRolePolicy(describeAlarms);

    grantTable(props.callbackTable, functions.HandleAlarmEvent, 'dynamodb:GetItem');
    functions.HandleAlarmEvent.addToRolePolicy(taskResponses);

    grantTable(props.lockTable, functions.ReleaseDeployLock, 'dynamodb:DeleteItem', 'dynamodb:GetItem');
    appendAudit(functions.ReleaseDeployLock);

    appendAudit(functions.RecordDeployOutcome);

    // --- the state machine, from the ASL file ---
    const logGroup = new LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${machineName}`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: machineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(aslPath(deployWorkflow.aslFile)),
      definitionSubstitutions: Object.fromEntries(
        Object.keys(deployWorkflow.functions).map((key) => [functionArnPlaceholder(key), functions[key as FunctionKey].functionArn]),
      ),
      timeout: props.executionTimeout ?? Duration.hours(6),
      tracingEnabled: true,
      // Execution data stays out of the logs: inputs and outputs live only in execution history.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    // A file-based definition gets no automatic grants. The functions it names, unqualified (no `:*`).
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: Object.keys(deployWorkflow.functions).map((key) => functions[key as FunctionKey].functionArn),
      }),
    );
    acknowledgeWildcards(this.stateMachine, ['*'], 'Step Functions logging (vended log delivery) and X-Ray tracing actions support no resource-level permissions.');

    // --- EventBridge rules, with a dead-letter queue and an alarm on its depth ---
    this.deadLetterQueue = new Queue(this, 'RuleDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the dead-letter queue of the EventBridge rules' targets; nothing redrives into it.",
    });
    new Alarm(this, 'RuleDeadLettersAlarm', {
      alarmName: `${machineName}-undelivered-events`,
      alarmDescription: 'EventBridge could not deliver an event to a deploy workflow function: a deploy may be waiting for an outcome it will not get',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const rule of deployWorkflow.rules) {
      new Rule(this, rule.id, {
        ruleName: `${machineName}-${rule.id}`,
        description: rule.description,
        eventPattern: toCdkEventPattern(rule.pattern(fleet, context)),
        targets: [
          new LambdaFunction(functions[rule.target], {
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: 185,
            maxEventAge: Duration.hours(24),
          }),
        ],
      });
    }
  }
}

/** The EventBridge JSON pattern in CDK's property names. */
export function toCdkEventPattern(pattern: PatternObject): EventPattern {
  const keys: Record<string, keyof EventPattern> = {
    source: 'source',
    'detail-type': 'detailType',
    detail: 'detail',
    resources: 'resources',
    account: 'account',
    region: 'region',
    id: 'id',
    time: 'time',
    version: 'version',
  };
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    const cdkKey = keys[key];
    if (!cdkKey) throw new Error(`Event pattern field ${key} has no CDK equivalent`);
    result[cdkKey] = value;
  }
  return result as EventPattern;
}

