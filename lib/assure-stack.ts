/**
 * One stack per fleet file: the environment's tables, halt flag and workflows.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { Fleet } from './fleet/fleet';
import { assureConfig } from './naming';
import { TABLE_LAYOUTS, type TableLayout } from './tables';
import { DeployWorkflow } from './constructs/deploy-workflow';
import { FleetAlarms } from './constructs/fleet-alarms';

export interface AssureStackProps extends StackProps {
  /** The resolved fleet file this stack serves. */
  readonly fleet: Fleet;
}

export class AssureStack extends Stack {
  readonly deploy: DeployWorkflow;

  constructor(scope: Construct, id: string, props: AssureStackProps) {
    super(scope, id, props);
    const { fleet } = props;
    const { region: _region, ...config } = assureConfig(fleet, { account: this.account, region: this.region });

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
    const _stateTable = table('stateTableName', TABLE_LAYOUTS.stateTableName);

    const haltParameter = new StringParameter(this, 'HaltFlag', {
      parameterName: config.haltParameterName,
      description: `Trading halt flag for ${fleet.environment}: set first by the halt workflow, read by deploys and services`,
      stringValue: JSON.stringify({ halted: false }),
    });

    const alarms = new FleetAlarms(this, 'RollbackAlarms', { fleet });

    this.deploy = new DeployWorkflow(this, 'Deploy', {
      fleet,
      config,
      bundledFleetPath: stageFleetJson(fleet),
      lockTable,
      callbackTable,
      auditTable,
      haltParameter,
    });
    // The workflow names the alarms; they must exist before it describes or watches them.
    this.deploy.node.addDependency(alarms);

    new CfnOutput(this, 'DeployStateMachineArn', { value: this.deploy.stateMachine.stateMachineArn });
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
