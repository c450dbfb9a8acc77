/**
 * One stack per fleet file: the environment's tables, halt flag, paging topic,
 * the fleet's alarms, and one construct per workflow.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { Fleet } from './fleet/fleet';
import { assureConfig, pagingTopicName, pascalCase, WORKFLOWS } from './naming';
import { TABLE_LAYOUTS, type TableLayout } from './tables';
import { AlarmRouting } from './constructs/alarm-routing';
import { DeployWorkflow } from './constructs/deploy-workflow';
import { FleetAlarms } from './constructs/fleet-alarms';
import { FleetPermissions } from './constructs/fleet-permissions';
import { HaltWorkflow } from './constructs/halt-workflow';
import { ResumeWorkflow } from './constructs/resume-workflow';
import { RollbackWorkflow } from './constructs/rollback-workflow';
import { RotateSecretWorkflow } from './constructs/rotate-secret-workflow';
import { ScaleWorkflow } from './constructs/scale-workflow';
import { fleetNetwork, type WorkflowConstructProps } from './constructs/workflow-resources';

export interface AssureStackProps extends StackProps {
  /** The resolved fleet file this stack serves. */
  readonly fleet: Fleet;
}

export class AssureStack extends Stack {
  readonly deploy: DeployWorkflow;
  readonly rollback: RollbackWorkflow;
  readonly halt: HaltWorkflow;
  readonly resume: ResumeWorkflow;
  readonly rotateSecret: RotateSecretWorkflow;
  readonly scale: ScaleWorkflow;
  readonly alarmRouting: AlarmRouting;

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
    const stateTable = table('stateTableName', TABLE_LAYOUTS.stateTableName);

    const haltParameter = new StringParameter(this, 'HaltFlag', {
      parameterName: config.haltParameterName,
      description: `Trading halt flag for ${fleet.environment}: set first by the halt workflow, read by deploys and services`,
      stringValue: JSON.stringify({ halted: false }),
    });

    const pagingTopic = new Topic(this, 'Paging', {
      topicName: pagingTopicName(fleet.environment),
      displayName: `Assure ${fleet.environment}: pages`,
      // Pages name services and reasons, never secrets; still encrypted at rest, and reachable only over TLS.
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    for (const email of fleet.paging.emails) pagingTopic.addSubscription(new EmailSubscription(email));

    const alarms = new FleetAlarms(this, 'FleetAlarms', { fleet });

    const workflowProps: WorkflowConstructProps = {
      fleet,
      config,
      bundledFleetPath: stageFleetJson(fleet),
      permissions: new FleetPermissions(this, { fleet, lockTable, callbackTable, auditTable, stateTable, haltParameter, pagingTopic }),
      ...(fleet.network ? { network: fleetNetwork(this, fleet) } : {}),
    };
    this.deploy = new DeployWorkflow(this, 'Deploy', workflowProps);
    this.rollback = new RollbackWorkflow(this, 'Rollback', workflowProps);
    this.halt = new HaltWorkflow(this, 'Halt', workflowProps);
    this.resume = new ResumeWorkflow(this, 'Resume', workflowProps);
    this.rotateSecret = new RotateSecretWorkflow(this, 'RotateSecret', { ...workflowProps, deploymentEventHandler: this.deploy.functions.HandleDeploymentEvent });
    this.scale = new ScaleWorkflow(this, 'Scale', workflowProps);
    this.alarmRouting = new AlarmRouting(this, 'AlarmRouting', workflowProps);
    // The workflows name the alarms; they must exist before anything describes or watches them.
    for (const workflow of [this.deploy, this.rollback, this.halt, this.resume, this.rotateSecret, this.scale, this.alarmRouting]) workflow.node.addDependency(alarms);

    for (const workflow of WORKFLOWS) new CfnOutput(this, `${pascalCase(workflow)}StateMachineArn`, { value: config.stateMachineArns[workflow] });
    new CfnOutput(this, 'ResumeApprovalFunctionName', { value: this.resume.functions.DecideResumeApproval.functionName });
    new CfnOutput(this, 'HaltParameterName', { value: haltParameter.parameterName });
    new CfnOutput(this, 'PagingTopicArn', { value: pagingTopic.topicArn });
    new CfnOutput(this, 'AuditTableName', { value: auditTable.tableName });
  }
}

/** Writes the resolved fleet where bundling can copy it beside each handler (content-addressed). */
function stageFleetJson(fleet: Fleet): string {
  const json = JSON.stringify(fleet);
  const directory = join(tmpdir(), 'assure-fleet');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${createHash('sha256').update(json).digest('hex').slice(0, 20)}.json`);
  writeFileSync(file, json);
  return file;
}
