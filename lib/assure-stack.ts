/**
 * One stack per fleet file: the environment's tables, halt flag, paging topic,
 * the fleet's alarms, and one construct per workflow.
 */
import { ArnFormat, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, StreamViewType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { Fleet } from './fleet/fleet';
import { assureConfig, pagingTopicName, pascalCase, resourcePrefix, unarchivedAuditRecordsAlarmName, type WorkflowName, WORKFLOWS } from './naming';
import { TABLE_LAYOUTS, type TableLayout } from './tables';
import { AuditArchive } from './constructs/audit-archive';
import { customerKey } from './constructs/customer-key';
import { protectAuditTable } from './constructs/audit-table-policy';
import { ApprovalEndpoints } from './constructs/approval-endpoints';
import { DeployWorkflow } from './constructs/deploy-workflow';
import { FleetAlarms } from './constructs/fleet-alarms';
import { FleetPermissions } from './constructs/fleet-permissions';
import { RotateSecretWorkflow } from './constructs/rotate-secret-workflow';
import { acknowledgeControlTowerFindings } from './constructs/guard-acknowledgements';
import { stagedFile } from './constructs/staged-file';
import { ScaleWorkflow } from './constructs/scale-workflow';
import { fleetNetwork, type WorkflowConstructProps, WorkflowResources } from './constructs/workflow-resources';
import { ALL_SPECS } from './workflows/registry';
import type { EventRouteName, ResourceGroupSpec } from './workflows/workflow-spec';

type WorkflowConstruct = (scope: Construct, id: string, props: WorkflowConstructProps) => WorkflowResources;

/** Workflows with resources of their own beyond what every workflow has; the others get WorkflowResources alone. */
const OWN_CONSTRUCTS: { readonly [W in WorkflowName]?: WorkflowConstruct } = {
  deploy: (scope, id, props) => new DeployWorkflow(scope, id, props),
  'rotate-secret': (scope, id, props) => new RotateSecretWorkflow(scope, id, props),
  scale: (scope, id, props) => new ScaleWorkflow(scope, id, props),
};

const constructFor = (spec: ResourceGroupSpec): WorkflowConstruct =>
  (spec.kind === 'workflow' ? OWN_CONSTRUCTS[spec.name] : undefined) ?? ((scope, id, props) => new WorkflowResources(scope, id, { ...props, spec }));

export interface AssureStackProps extends StackProps {
  /** The resolved fleet file this stack serves. */
  readonly fleet: Fleet;
}

export class AssureStack extends Stack {
  /** One construct per workflow and event route, by name (construct id: the name in PascalCase). */
  readonly workflows: Readonly<Record<WorkflowName | EventRouteName, WorkflowResources>>;

  constructor(scope: Construct, id: string, props: AssureStackProps) {
    super(scope, id, props);
    const { fleet } = props;
    const config = assureConfig(fleet, { account: this.account, region: this.region });

    const table = (key: keyof typeof TABLE_LAYOUTS, layout: TableLayout): TableV2 =>
      new TableV2(this, key.replace(/Name$/, ''), {
        tableName: config[key],
        partitionKey: { name: layout.partitionKey, type: AttributeType.STRING },
        ...(layout.sortKey ? { sortKey: { name: layout.sortKey, type: AttributeType.STRING } } : {}),
        ...(layout.timeToLiveAttribute ? { timeToLiveAttribute: layout.timeToLiveAttribute } : {}),
        ...(layout.stream ? { dynamoStream: StreamViewType[layout.stream] } : {}),
        globalSecondaryIndexes: (layout.globalIndexes ?? []).map((g) => ({
          indexName: g.name,
          partitionKey: { name: g.partitionKey, type: AttributeType.STRING },
          sortKey: { name: g.sortKey, type: AttributeType.STRING },
        })),
        billing: Billing.onDemand(),
        encryption: TableEncryptionV2.awsManagedKey(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: layout.retain,
        removalPolicy: layout.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
    const lockTable = table('lockTableName', TABLE_LAYOUTS.lockTableName);
    const callbackTable = table('callbackTableName', TABLE_LAYOUTS.callbackTableName);
    const auditTable = table('auditTableName', TABLE_LAYOUTS.auditTableName);
    protectAuditTable(auditTable);
    const stateTable = table('stateTableName', TABLE_LAYOUTS.stateTableName);

    const haltParameter = new StringParameter(this, 'HaltFlag', {
      parameterName: config.haltParameterName,
      description: `Trading halt flag for ${fleet.environment}: set first by the halt workflow, read by deploys and services`,
      stringValue: JSON.stringify({ halted: false }),
    });

    // CloudWatch alarm actions cannot publish to a topic under the AWS-managed SNS key (its policy cannot grant
    // cloudwatch.amazonaws.com), so the paging topic has a key of its own that lets this account's alarms use it.
    const pagingKey = customerKey(this, 'PagingKey', { description: `Assure ${fleet.environment}: encrypts the paging topic` });
    pagingKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishPages',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );
    const pagingTopic = new Topic(this, 'Paging', {
      topicName: pagingTopicName(fleet.environment),
      displayName: `Assure ${fleet.environment}: pages`,
      // Pages name services and reasons, never secrets; still encrypted at rest, and reachable only over TLS.
      masterKey: pagingKey,
      enforceSSL: true,
    });
    for (const email of fleet.paging.emails) pagingTopic.addSubscription(new EmailSubscription(email));

    // Logs and execution history carry service names, deployment ids and reasons: under a key this account controls.
    const logsAndStateKey = customerKey(this, 'LogsAndStateKey', {
      description: `Assure ${fleet.environment}: encrypts the functions' and state machines' log groups and the state machines`,
    });
    logsAndStateKey.addToResourcePolicy(
      // The key policy CloudWatch Logs documents for an encrypted log group, narrowed to Assure's own log groups.
      new PolicyStatement({
        sid: 'CloudWatchLogsEncryptsAssureLogGroups',
        principals: [new ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': [
              `/aws/lambda/${resourcePrefix(fleet.environment)}-*`,
              `/aws/vendedlogs/states/${resourcePrefix(fleet.environment)}-*`,
            ].map((name) => this.formatArn({ service: 'logs', resource: 'log-group', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
          },
        },
      }),
    );

    const alarms = new FleetAlarms(this, 'FleetAlarms', { fleet });
    const auditArchive = new AuditArchive(this, 'Archive', {
      fleet,
      bucketName: config.auditArchiveBucketName,
      unarchivedAlarmName: unarchivedAuditRecordsAlarmName(fleet.environment),
    });

    const workflowProps: WorkflowConstructProps = {
      fleet,
      config,
      // The resolved fleet (validated, CA bundle inlined), where bundling can copy it beside each handler.
      bundledFleetPath: stagedFile(JSON.stringify(fleet), 'json'),
      permissions: new FleetPermissions(this, {
        fleet,
        lockTable,
        callbackTable,
        auditTable,
        stateTable,
        haltParameter,
        pagingTopic,
        pagingKey,
        auditArchive: { bucket: auditArchive.bucket, key: auditArchive.key },
        logsAndStateKey,
      }),
      ...(fleet.network ? { network: fleetNetwork(this, fleet) } : {}),
    };
    const workflows: Partial<Record<WorkflowName | EventRouteName, WorkflowResources>> = {};
    for (const spec of ALL_SPECS) {
      const workflow = constructFor(spec)(this, pascalCase(spec.name), workflowProps);
      // The workflows name the alarms; they must exist before anything describes or watches them.
      workflow.node.addDependency(alarms);
      workflows[spec.name] = workflow;
    }
    this.workflows = workflows as Record<WorkflowName | EventRouteName, WorkflowResources>;
    const archiver = this.workflows['audit-archive'].functions.ArchiveAuditRecords;
    if (!archiver) throw new Error('The audit-archive route has no ArchiveAuditRecords function: the audit stream would go unread');
    auditArchive.archiveFrom(auditTable, archiver, pagingTopic);

    for (const workflow of WORKFLOWS) new CfnOutput(this, `${pascalCase(workflow)}StateMachineArn`, { value: config.stateMachineArns[workflow] });
    const approvals = this.workflows.resume.functions.DecideResumeApproval;
    if (!approvals) throw new Error('The resume workflow has no DecideResumeApproval function: approvers would have nothing to invoke');
    new CfnOutput(this, 'ResumeApprovalFunctionName', { value: approvals.functionName });
    // Approvers decide through IAM-authenticated function URLs; the resume's task token is sealed under its own key.
    new ApprovalEndpoints(this, 'ApprovalEndpoints', {
      fleet,
      requestResume: this.workflows.resume.functions.RequestResume as IFunction,
      requestResumeApproval: this.workflows.resume.functions.RequestResumeApproval as IFunction,
      decideResumeApproval: approvals,
      decideReleaseApproval: this.workflows.deploy.functions.DecideReleaseApproval as IFunction,
    });
    new CfnOutput(this, 'HaltParameterName', { value: haltParameter.parameterName });
    new CfnOutput(this, 'PagingTopicArn', { value: pagingTopic.topicArn });
    new CfnOutput(this, 'AuditTableName', { value: auditTable.tableName });
    new CfnOutput(this, 'AuditArchiveBucketName', { value: auditArchive.bucket.bucketName });

    acknowledgeControlTowerFindings(this, { alarms });
  }
}
