/**
 * What every workflow has, built from its WorkflowSpec: one Lambda function per
 * handler, the state machine from its ASL file (when it has one) with its logs,
 * and the EventBridge rules that feed it, each target with a dead-letter queue
 * and an alarm on that queue's depth that pages. Grants are the workflow
 * construct's business: this construct grants nothing but invoke.
 */
import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ISecurityGroup, type IVpc, SecurityGroup, Subnet, type SubnetSelection, Vpc } from 'aws-cdk-lib/aws-ec2';
import { type EventPattern, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type AssureConfig, configToEnvironment } from '../../functions/shared/runtime/config';
import type { EventPattern as PatternObject } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import { functionName, resourcePrefix, stateMachineName } from '../naming';
import { readAsl } from '../workflows/asl';
import { allFunctions, functionArnPlaceholder, rulesFor, type WorkflowSpec } from '../workflows/workflow-spec';
import { HandlerFunction } from './handler-function';
import type { FleetPermissions } from './fleet-permissions';
import { acknowledgeWildcards } from './nag';

/** Where functions that call tasks directly (health checks, the admin API) run. */
export interface FunctionNetwork {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroups: ISecurityGroup[];
}

/** What every workflow construct is given. */
export interface WorkflowConstructProps {
  /** The resolved fleet. */
  readonly fleet: Fleet;
  /** Resource names the handlers use. */
  readonly config: AssureConfig;
  /** The resolved fleet as a JSON file, bundled beside each handler. */
  readonly bundledFleetPath: string;
  /** The shared resources and the statements that grant access to them (the paging topic among them). */
  readonly permissions: FleetPermissions;
  /** The VPC for functions that call tasks directly. @default - those functions are not attached to a VPC (HTTP checks cannot reach tasks) */
  readonly network?: FunctionNetwork;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Longest an execution may run. @default Duration.hours(6) */
  readonly executionTimeout?: Duration;
}

export interface WorkflowResourcesProps<S extends WorkflowSpec> extends WorkflowConstructProps {
  /** The workflow as data (functions, ASL file, rules). */
  readonly spec: S;
  /** Functions (by spec key) that run in the fleet's VPC. @default - none */
  readonly inVpc?: readonly FunctionKeys<S>[];
}

export type FunctionKeys<S extends WorkflowSpec> = Extract<keyof S['functions'] | keyof S['standaloneFunctions'], string>;

export class WorkflowResources<S extends WorkflowSpec> extends Construct {
  /** Every function of the workflow, keyed as in the spec. */
  readonly functions: Readonly<Record<FunctionKeys<S>, IFunction>>;
  /** The same functions' constructs, for acknowledging findings on their roles. */
  readonly handlers: Readonly<Record<FunctionKeys<S>, HandlerFunction>>;
  /** Absent for a workflow with no ASL file (event routing). */
  readonly stateMachine?: StateMachine;
  /** Events EventBridge could not deliver to the workflow's functions. @default - absent when the workflow has no rules */
  readonly deadLetterQueue?: Queue;

  constructor(scope: Construct, id: string, props: WorkflowResourcesProps<S>) {
    super(scope, id);
    const { spec, fleet } = props;
    const stack = Stack.of(this);
    const context = { account: stack.account, region: stack.region };
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const environment = configToEnvironment(props.config);
    const inVpc = new Set<string>(props.inVpc ?? []);

    const handlers: Record<string, HandlerFunction> = {};
    for (const [key, definition] of allFunctions(spec)) {
      handlers[key] = new HandlerFunction(this, key, {
        definition,
        functionName: functionName(fleet.environment, spec.name, definition.name),
        environment,
        bundledFleetPath: props.bundledFleetPath,
        logRetention,
        ...(inVpc.has(key) && props.network ? { vpc: props.network } : {}),
      });
    }
    this.handlers = handlers as Record<FunctionKeys<S>, HandlerFunction>;
    this.functions = Object.fromEntries(Object.entries(handlers).map(([key, h]) => [key, h.function])) as unknown as Record<FunctionKeys<S>, IFunction>;

    const alarmPrefix = spec.aslFile ? stateMachineName(fleet.environment, spec.name) : `${resourcePrefix(fleet.environment)}-${spec.name}`;

    if (spec.aslFile) {
      const machineName = stateMachineName(fleet.environment, spec.name);
      const logGroup = new LogGroup(this, 'StateMachineLogs', {
        logGroupName: `/aws/vendedlogs/states/${machineName}`,
        retention: logRetention,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const invoked = Object.keys(spec.functions).map((key) => (handlers[key] as HandlerFunction).function.functionArn);
      this.stateMachine = new StateMachine(this, 'StateMachine', {
        stateMachineName: machineName,
        stateMachineType: StateMachineType.STANDARD,
        definitionBody: DefinitionBody.fromString(readAsl(spec.aslFile)),
        definitionSubstitutions: {
          ...spec.substitutions?.(props.config),
          ...Object.fromEntries(Object.keys(spec.functions).map((key) => [functionArnPlaceholder(key), (handlers[key] as HandlerFunction).function.functionArn])),
        },
        timeout: props.executionTimeout ?? Duration.hours(6),
        tracingEnabled: true,
        // Execution data stays out of the logs: inputs and outputs live only in execution history.
        logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      });
      // A file-based definition gets no automatic grants: the functions it names, unqualified (no `:*`).
      this.stateMachine.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: invoked }));
      acknowledgeWildcards(this.stateMachine, ['*'], 'Step Functions logging (vended log delivery) and X-Ray tracing actions support no resource-level permissions.');
    }

    const rules = rulesFor(spec, fleet);
    if (rules.length > 0) {
      const deadLetterQueue = new Queue(this, 'RuleDeadLetters', {
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      Validations.of(deadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: "This queue is the dead-letter queue of the EventBridge rules' targets; nothing redrives into it.",
      });
      const alarm = new Alarm(this, 'RuleDeadLettersAlarm', {
        alarmName: `${alarmPrefix}-undelivered-events`,
        alarmDescription: `EventBridge could not deliver an event to a ${spec.name} function: a signal Assure should have acted on is sitting in ${spec.name}'s dead-letter queue`,
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new SnsAction(props.permissions.resources.pagingTopic));
      for (const rule of rules) {
        const target = handlers[rule.target];
        if (!target) throw new Error(`Rule ${rule.id} of ${spec.name} targets ${rule.target}, which is not one of its functions`);
        new Rule(this, rule.id, {
          ruleName: `${alarmPrefix}-${rule.id}`,
          description: rule.description,
          eventPattern: toCdkEventPattern(rule.pattern(fleet, context)),
          targets: [new LambdaFunction(target.function, { deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
        });
      }
      this.deadLetterQueue = deadLetterQueue;
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

/** The fleet's VPC, subnets and security groups, from the ids in the fleet file (no lookups, so no credentials at synth). */
export function fleetNetwork(scope: Construct, fleet: Fleet): FunctionNetwork | undefined {
  if (!fleet.network) return undefined;
  return {
    vpc: Vpc.fromVpcAttributes(scope, 'Vpc', { vpcId: fleet.network.vpcId, availabilityZones: [Fn.select(0, Fn.getAzs())] }),
    subnets: {
      subnets: fleet.network.subnetIds.map((id, i) => {
        const subnet = Subnet.fromSubnetId(scope, `Subnet${i}`, id);
        Validations.of(subnet).acknowledge({
          id: 'annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
          reason: "Assure's functions only attach to this subnet; nothing reads its route table.",
        });
        return subnet;
      }),
    },
    securityGroups: fleet.network.securityGroupIds.map((id, i) => SecurityGroup.fromSecurityGroupId(scope, `SecurityGroup${i}`, id, { mutable: false })),
  };
}
