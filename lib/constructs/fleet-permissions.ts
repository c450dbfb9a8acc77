/**
 * The IAM statements Assure's functions are granted, each scoped to the fleet's
 * own resources. Workflow constructs pick from these per function, so every
 * grant in the stack reads as "this function may do exactly this, here".
 */
import { ArnFormat, type CfnResource, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { classifiedAlarms, type Fleet, secretConsumers } from '../fleet/fleet';
import { type AccountContext, deploymentHookRoleName, ecsClusterArn, ecsServiceArn, stateMachineName, type WorkflowName, WORKFLOWS } from '../naming';
import { acknowledgeWildcards, nagArn } from './nag';

/** The shared resources a workflow's functions may touch. */
export interface FleetResources {
  readonly fleet: Fleet;
  readonly lockTable: ITable;
  readonly callbackTable: ITable;
  readonly auditTable: ITable;
  readonly stateTable: ITable;
  readonly haltParameter: IStringParameter;
  readonly pagingTopic: ITopic;
  /** The paging topic's customer-managed key: publishing encrypts each page with it. */
  readonly pagingKey: IKey;
  /** The audit trail's write-once bucket and its key. */
  readonly auditArchive: { readonly bucket: IBucket; readonly key: IKey };
  /** The customer-managed key of the log groups and the state machines (definitions and execution history). */
  readonly logsAndStateKey: IKey;
}

/** Step Functions calls that read or write execution data, so need the state machine's key. */
const STATE_DATA_ACTIONS = new Set([
  'states:StartExecution',
  'states:StartSyncExecution',
  'states:DescribeExecution',
  'states:GetExecutionHistory',
  'states:RedriveExecution',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
]);

export class FleetPermissions {
  private readonly stack: Stack;
  private readonly context: AccountContext;

  constructor(
    scope: Construct,
    readonly resources: FleetResources,
  ) {
    this.stack = Stack.of(scope);
    this.context = { account: this.stack.account, region: this.stack.region };
  }

  private get fleet(): Fleet {
    return this.resources.fleet;
  }

  /** Adds the statements to the function's role. */
  grant(fn: IFunction, ...statements: PolicyStatement[]): void {
    for (const statement of statements) fn.addToRolePolicy(statement);
  }

  /** Table grants name the table only (the L2 grant adds `/index/*`, which these calls never touch). */
  table(table: ITable, ...actions: string[]): PolicyStatement {
    return new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] });
  }

  /**
   * Append-only: Assure never updates or deletes audit records. Appending reads the
   * subject's chain head (Query) and puts the record and its chain link in one
   * transaction (authorized as PutItem per item).
   */
  appendAudit(): PolicyStatement {
    return this.table(this.resources.auditTable, 'PutItem', 'Query');
  }

  /** Reading the audit trail by subject (the table, not its index). */
  queryAudit(): PolicyStatement {
    return this.table(this.resources.auditTable, 'Query');
  }

  /**
   * New objects in the audit archive (records, and evidence of tampering), encrypted with its key. Nothing
   * more: no reads, no deletions, no retention changes (compliance mode refuses those to everyone anyway).
   */
  archiveAudit(scope: Construct): PolicyStatement[] {
    const { bucket, key } = this.resources.auditArchive;
    const bucketId = this.stack.resolve((bucket.node.defaultChild as CfnResource).logicalId) as string;
    acknowledgeWildcards(
      scope,
      [`<${bucketId}.Arn>/audit/*`, `<${bucketId}.Arn>/tamper/*`],
      'One object per audit record: the archiver names the keys under these prefixes.',
    );
    return [
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects('audit/*'), bucket.arnForObjects('tamper/*')] }),
      new PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [key.keyArn] }),
    ];
  }

  /** Guard-rail claims, capacity snapshots and approvals in the control-state table. */
  controlState(...actions: ('GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem')[]): PolicyStatement {
    return this.table(this.resources.stateTable, ...actions);
  }

  serviceArns(services = Object.values(this.fleet.services)): string[] {
    return services.map((s) => ecsServiceArn(this.context, this.fleet.cluster, s.ecsServiceName));
  }

  tradingServiceArns(): string[] {
    return this.serviceArns(Object.values(this.fleet.services).filter((s) => s.role === 'trading'));
  }

  /** The services a rotation may restart: the managed secrets' consumers. */
  secretConsumerArns(): string[] {
    return this.serviceArns(
      this.secretConsumerIds()
        .map((id) => this.fleet.services[id])
        .filter((s) => s !== undefined),
    );
  }

  /** The services that have a scaling policy. */
  scalingServiceArns(): string[] {
    return this.serviceArns(Object.values(this.fleet.services).filter((s) => s.scaling));
  }

  describeServices(): PolicyStatement {
    return new PolicyStatement({ actions: ['ecs:DescribeServices'], resources: this.serviceArns() });
  }

  /** UpdateService on the given services only (the halt role: trading services alone). */
  updateServices(serviceArns = this.serviceArns()): PolicyStatement {
    return new PolicyStatement({ actions: ['ecs:UpdateService'], resources: serviceArns });
  }

  /** Service-deployment history and stopping one with rollback. */
  serviceDeployments(scope: Construct): PolicyStatement[] {
    const deployments = this.ecsArn(`service-deployment/${this.fleet.cluster}/*`);
    const revisions = this.ecsArn(`service-revision/${this.fleet.cluster}/*`);
    acknowledgeWildcards(
      scope,
      [nagArn(scope, 'ecs', `service-deployment/${this.fleet.cluster}/*`), nagArn(scope, 'ecs', `service-revision/${this.fleet.cluster}/*`)],
      "Service deployments and revisions of the fleet's cluster: ECS assigns their ids.",
    );
    // The Service Authorization Reference lists both the service and the deployment (or revision) as required
    // resources of these actions: each call is authorized on the service too.
    return [
      new PolicyStatement({ actions: ['ecs:ListServiceDeployments'], resources: this.serviceArns() }),
      new PolicyStatement({ actions: ['ecs:DescribeServiceDeployments', 'ecs:StopServiceDeployment'], resources: [...this.serviceArns(), deployments] }),
      new PolicyStatement({ actions: ['ecs:DescribeServiceRevisions'], resources: [...this.serviceArns(), revisions] }),
    ];
  }

  /**
   * Registering a revision of a fleet service's task definition: tagging it at
   * registration on the fleet's own families, and passing the services' task and
   * execution roles to ECS tasks only.
   */
  registerTaskDefinitions(scope: Construct): PolicyStatement[] {
    const services = Object.values(this.fleet.services);
    const familyArns = services.map((s) => this.stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${s.ecsServiceName}:*` }));
    const roleArns = services.flatMap((s) => [s.taskRoleName, s.executionRoleName].filter((r): r is string => r !== undefined).map((r) => this.roleArn(r)));
    acknowledgeWildcards(
      scope,
      services.map((s) => nagArn(scope, 'ecs', `task-definition/${s.ecsServiceName}:*`)),
      "ecs:RegisterTaskDefinition and ecs:TagResource at registration, on the fleet's own task-definition families: the revision number is assigned by ECS.",
    );
    return [
      // DescribeTaskDefinition has no resource type in the Service Authorization Reference (AWS requires "*").
      new PolicyStatement({ actions: ['ecs:DescribeTaskDefinition'], resources: ['*'] }),
      // RegisterTaskDefinition is authorized on the task-definition resource: the fleet's own families only.
      new PolicyStatement({ actions: ['ecs:RegisterTaskDefinition'], resources: familyArns }),
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: familyArns,
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [...new Set(roleArns)],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    ];
  }

  /**
   * Passing to ECS, in a blue/green, canary or linear UpdateService, the roles it
   * needs: each service's traffic-shift role (named in the fleet file) and, for a
   * deploy, the role it invokes Assure's lifecycle hook with (a restart registers
   * no hook). Only `services` (all by default); nothing when none shifts traffic.
   */
  passDeploymentRoles(options: { readonly services?: readonly string[]; readonly hook?: boolean } = {}): PolicyStatement[] {
    const services = options.services ? options.services.map((id) => this.fleet.services[id]) : Object.values(this.fleet.services);
    const shiftRoles = services.flatMap((s) => (s?.trafficShift ? [s.trafficShift.roleName] : []));
    if (shiftRoles.length === 0) return [];
    const hookRoles = options.hook === false ? [] : [deploymentHookRoleName(this.fleet.environment)];
    const roleArns = [...new Set([...shiftRoles, ...hookRoles])].map((name) => this.roleArn(name));
    return [
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: roleArns,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs.amazonaws.com' } },
      }),
    ];
  }

  /** The services that consume a managed secret (fleet ids). */
  secretConsumerIds(): string[] {
    return [...new Set(Object.values(this.fleet.secrets).flatMap((s) => secretConsumers(this.fleet, s.id)))];
  }

  /** A role of the stack's account by name. */
  roleArn(roleName: string): string {
    return this.stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: roleName });
  }

  /** Task definitions of the fleet's families (to read what a revision runs). */
  describeTaskDefinitions(_scope: Construct): PolicyStatement {
    // On "*": confined to the role's wildcard-only policy (nag.ts).
    return new PolicyStatement({ actions: ['ecs:DescribeTaskDefinition'], resources: ['*'] });
  }

  /** Listing and describing the fleet cluster's tasks (health checks, admin API calls). */
  clusterTasks(scope: Construct): PolicyStatement[] {
    acknowledgeWildcards(
      scope,
      [nagArn(scope, 'ecs', `task/${this.fleet.cluster}/*`)],
      "ecs:DescribeTasks on the fleet cluster's tasks, whose ids ECS assigns.",
    );
    return [
      new PolicyStatement({
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': ecsClusterArn(this.context, this.fleet.cluster) } },
      }),
      new PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [this.ecsArn(`task/${this.fleet.cluster}/*`)] }),
    ];
  }

  /** DescribeAlarms on the alarms the fleet file defines. */
  describeAlarms(): PolicyStatement {
    const alarmArns = classifiedAlarms(this.fleet).map(({ alarm }) =>
      this.stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarm.name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    return new PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns });
  }

  readHaltFlag(): PolicyStatement {
    return new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [this.resources.haltParameter.parameterArn] });
  }

  writeHaltFlag(): PolicyStatement {
    return new PolicyStatement({ actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: [this.resources.haltParameter.parameterArn] });
  }

  /** Publishing to the encrypted paging topic: SNS generates a data key under the topic's key for the caller. */
  page(): PolicyStatement[] {
    return [
      new PolicyStatement({ actions: ['sns:Publish'], resources: [this.resources.pagingTopic.topicArn] }),
      new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.resources.pagingKey.keyArn] }),
    ];
  }

  /** The admin API token; Secrets Manager appends a random suffix to secret ARNs. */
  readAdminToken(scope: Construct): PolicyStatement[] {
    const secret = this.fleet.halt?.adminTokenSecret;
    if (!secret) return [];
    acknowledgeWildcards(
      scope,
      [nagArn(scope, 'secretsmanager', `secret:${secret}-??????`)],
      'Secrets Manager appends six random characters to every secret ARN.',
    );
    return [
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secretArn(secret)],
      }),
    ];
  }

  /** Secrets Manager actions on the fleet's managed secrets only. */
  managedSecrets(scope: Construct, ...actions: string[]): PolicyStatement {
    const secrets = Object.values(this.fleet.secrets);
    acknowledgeWildcards(
      scope,
      secrets.map((s) => nagArn(scope, 'secretsmanager', `secret:${s.name}-??????`)),
      "The fleet's managed secrets: Secrets Manager appends six random characters to every secret ARN.",
    );
    return new PolicyStatement({ actions: actions.map((a) => `secretsmanager:${a}`), resources: secrets.map((s) => this.secretArn(s.name)) });
  }

  /** Secrets Manager appends six random characters to a secret's name in its ARN. */
  private secretArn(name: string): string {
    return this.stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  stateMachineArn(workflow: WorkflowName): string {
    // Built from the known name, not the resource: a function's policy must not depend on the state machine that invokes it.
    return this.stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName(this.fleet.environment, workflow),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private executionsArn(workflow: WorkflowName): string {
    return this.stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName(this.fleet.environment, workflow)}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * kms:Decrypt and kms:GenerateDataKey on the state machines' key, for the
   * state machines these statements start, read or answer, and only for them
   * (the encryption context names the state machine). Undefined when none does.
   */
  stateMachineKeyUse(statements: readonly PolicyStatement[]): PolicyStatement | undefined {
    const touched = WORKFLOWS.filter((w) =>
      statements.some(
        (s) =>
          s.actions.some((a) => STATE_DATA_ACTIONS.has(a)) && (s.resources.includes(this.stateMachineArn(w)) || s.resources.includes(this.executionsArn(w))),
      ),
    );
    if (touched.length === 0) return undefined;
    return new PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [this.resources.logsAndStateKey.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': touched.map((w) => this.stateMachineArn(w)) } },
    });
  }

  startExecution(...workflows: WorkflowName[]): PolicyStatement {
    return new PolicyStatement({ actions: ['states:StartExecution'], resources: workflows.map((w) => this.stateMachineArn(w)) });
  }

  /** Finding, reading and stopping a workflow's executions. */
  stopExecutions(scope: Construct, workflow: WorkflowName, options: { list?: boolean } = {}): PolicyStatement[] {
    acknowledgeWildcards(
      scope,
      [nagArn(scope, 'states', `execution:${stateMachineName(this.fleet.environment, workflow)}:*`)],
      `Executions of the ${workflow} state machine: their names come from events and requests.`,
    );
    return [
      new PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [this.executionsArn(workflow)] }),
      ...(options.list ? [new PolicyStatement({ actions: ['states:ListExecutions'], resources: [this.stateMachineArn(workflow)] })] : []),
    ];
  }

  /** Completing task tokens that executions of these workflows wait on. */
  taskResponses(...workflows: WorkflowName[]): PolicyStatement {
    return new PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: workflows.map((w) => this.stateMachineArn(w)) });
  }

  private ecsArn(resourceName: string): string {
    return this.stack.formatArn({ service: 'ecs', resource: resourceName.split('/')[0] as string, resourceName: resourceName.split('/').slice(1).join('/') });
  }
}
