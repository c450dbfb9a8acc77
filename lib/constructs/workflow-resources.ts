/**
 * What every workflow and event route has, built from its spec through the
 * provisioning plan the sandbox uses too: one Lambda function per handler with
 * that handler's grants (handler-grants.ts), the state machine from its ASL
 * file (when it has one) with its logs, and the EventBridge rules that feed it,
 * each target with a dead-letter queue and an alarm on that queue's depth that
 * pages. A workflow's own construct adds only what is specific to it.
 */
import { ArnFormat, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ISecurityGroup, type IVpc, SecurityGroup, Subnet, type SubnetSelection, Vpc } from 'aws-cdk-lib/aws-ec2';
import { type EventPattern, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { CustomerManagedEncryptionConfiguration, DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type AssureConfig, configToEnvironment } from '../../functions/shared/runtime/config';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { EventPattern as PatternObject } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import { provisioningPlan } from '../workflows/provisioning';
import type { ResourceGroupSpec, WorkflowSpec } from '../workflows/workflow-spec';
import { grantsFor, STATE_MACHINE_GRANTS } from './handler-grants';
import { HandlerFunction } from './handler-function';
import { stagedFile } from './staged-file';
import type { FleetPermissions } from './fleet-permissions';
import { WildcardConfinedRole } from './nag';

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

export interface WorkflowResourcesProps<S extends ResourceGroupSpec> extends WorkflowConstructProps {
  /** The workflow or event route as data (functions, ASL file, rules). */
  readonly spec: S;
}

export type FunctionKeys<S extends ResourceGroupSpec> = Extract<
  S extends WorkflowSpec ? keyof S['functions'] | keyof S['standaloneFunctions'] : keyof S['functions'],
  string
>;

export class WorkflowResources<S extends ResourceGroupSpec = ResourceGroupSpec> extends Construct {
  /** Every function of the workflow, keyed as in the spec. */
  readonly functions: Readonly<Record<FunctionKeys<S>, IFunction>>;
  /** The same functions' constructs, for acknowledging findings on their roles. */
  readonly handlers: Readonly<Record<FunctionKeys<S>, HandlerFunction>>;
  /** Absent for an event route (no state machine). */
  readonly stateMachine?: StateMachine;
  /** Events EventBridge could not deliver to the workflow's functions. @default - absent when the workflow has no rules */
  readonly deadLetterQueue?: Queue;

  constructor(scope: Construct, id: string, props: WorkflowResourcesProps<S>) {
    super(scope, id);
    const { spec, fleet, permissions } = props;
    const stack = Stack.of(this);
    const plan = provisioningPlan(spec, fleet, { account: stack.account, region: stack.region }, props.config);
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const environment = configToEnvironment(props.config);

    const handlers: Record<string, HandlerFunction> = {};
    for (const planned of plan.functions) {
      handlers[planned.key] = new HandlerFunction(this, planned.key, {
        definition: planned.definition,
        functionName: planned.functionName,
        environment,
        bundledFleetPath: props.bundledFleetPath,
        logRetention,
        logsKey: permissions.resources.logsAndStateKey,
        ...(grantsFor(planned.definition.name).inVpc && props.network ? { vpc: props.network } : {}),
      });
    }
    const functionArn = (key: string): string => {
      const handler = handlers[key];
      if (!handler) throw new Error(`${spec.name} has no function ${key}`);
      return handler.function.functionArn;
    };
    // Each handler's grants, declared once per handler (handler-grants.ts).
    for (const planned of plan.functions) {
      const handler = handlers[planned.key] as HandlerFunction;
      const context = { p: permissions, workflow: spec.name, scope: handler, functionArn };
      // A grant on none of the fleet's resources (a fleet without secrets, say) grants nothing; IAM refuses a statement without resources.
      const statements = grantsFor(planned.definition.name)
        .statements(context)
        .filter((s) => s.hasResource);
      for (const statement of statements) handler.function.addToRolePolicy(statement);
      // Starting, reading or answering an execution of a state machine under the customer key needs that key too.
      const keyUse = permissions.stateMachineKeyUse(statements);
      if (keyUse) handler.function.addToRolePolicy(keyUse);
    }
    this.handlers = handlers as Record<FunctionKeys<S>, HandlerFunction>;
    this.functions = Object.fromEntries(Object.entries(handlers).map(([key, h]) => [key, h.function])) as unknown as Record<FunctionKeys<S>, IFunction>;

    if (plan.stateMachine && spec.kind === 'workflow') {
      const logGroup = new LogGroup(this, 'StateMachineLogs', {
        logGroupName: `/aws/vendedlogs/states/${plan.stateMachine.name}`,
        retention: logRetention,
        removalPolicy: RemovalPolicy.RETAIN,
        encryptionKey: permissions.resources.logsAndStateKey,
      });
      // The role CDK would create (Step Functions of this account only), confined: its statements on "*" (log
      // delivery, tracing) are kept apart from its own grants (nag.ts).
      const role = new WildcardConfinedRole(this, 'StateMachineRole', {
        assumedBy: new ServicePrincipal('states.amazonaws.com', {
          conditions: {
            ArnLike: {
              'aws:SourceArn': stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
            },
            StringEquals: { 'aws:SourceAccount': stack.account },
          },
        }),
      });
      this.stateMachine = new StateMachine(this, 'StateMachine', {
        stateMachineName: plan.stateMachine.name,
        stateMachineType: StateMachineType.STANDARD,
        role,
        // Definition and execution history under the customer key; CDK grants the role its use for this state machine.
        encryptionConfiguration: new CustomerManagedEncryptionConfiguration(permissions.resources.logsAndStateKey),
        // An S3 asset, as from the ASL file itself, with the standard retriers expanded.
        definitionBody: DefinitionBody.fromFile(stagedFile(plan.stateMachine.definition, 'asl.json')),
        definitionSubstitutions: { ...plan.stateMachine.substitutions(functionArn) },
        timeout: props.executionTimeout ?? Duration.hours(6),
        tracingEnabled: true,
        // Execution data stays out of the logs: inputs and outputs live only in execution history.
        logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      });
      // A file-based definition gets no automatic grants: the functions it names, unqualified (no `:*`).
      this.stateMachine.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: Object.keys(spec.functions).map(functionArn) }));
      const machineStatements = STATE_MACHINE_GRANTS[spec.name]?.(permissions, role) ?? [];
      for (const statement of machineStatements) this.stateMachine.addToRolePolicy(statement);
      const keyUse = permissions.stateMachineKeyUse(machineStatements);
      if (keyUse) this.stateMachine.addToRolePolicy(keyUse);
    }

    if (plan.rules.length > 0) {
      const deadLetterQueue = deadLettersThatPage(this, 'RuleDeadLetters', {
        alarmName: plan.undeliveredEventsAlarmName,
        alarmDescription: `EventBridge could not deliver an event to a ${spec.name} function: a signal Assure should have acted on is sitting in ${spec.name}'s dead-letter queue`,
        deliveredBy: "the EventBridge rules' targets",
        pagingTopic: permissions.resources.pagingTopic,
      });
      for (const rule of plan.rules) {
        new Rule(this, rule.id, {
          ruleName: rule.name,
          description: rule.description,
          eventPattern: toCdkEventPattern(rule.pattern),
          targets: [
            new LambdaFunction((handlers[rule.target] as HandlerFunction).function, { deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) }),
          ],
        });
      }
      this.deadLetterQueue = deadLetterQueue;
    }
  }
}

export interface DeadLettersThatPageProps {
  /** From naming.ts. */
  readonly alarmName: string;
  readonly alarmDescription: string;
  /** Who sends to the queue, in words (for the acknowledgement that nothing redrives into it). */
  readonly deliveredBy: string;
  readonly pagingTopic: ITopic;
}

/**
 * A dead-letter queue (SSE, TLS only, 14 days) and an alarm that pages when
 * anything lands in it. Created in the caller's scope, under `id` and
 * `${id}Alarm`, so the resources keep their logical ids.
 */
export function deadLettersThatPage(scope: Construct, id: string, props: DeadLettersThatPageProps): Queue {
  const queue = new Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // Only its senders' SendMessage fills it: no SQS queue may redrive into it.
    redriveAllowPolicy: { redrivePermission: RedrivePermission.DENY_ALL },
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of ${props.deliveredBy}; nothing redrives into it.`,
  });
  new Alarm(scope, `${id}Alarm`, {
    alarmName: props.alarmName,
    alarmDescription: props.alarmDescription,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  }).addAlarmAction(new SnsAction(props.pagingTopic));
  return queue;
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
