/**
 * The deploy workflow in AWS: its functions, the state machine from
 * state-machines/deploy.asl.json, the rules that feed it (ECS deployment events,
 * deploy executions stopped from outside), and each function's grants.
 */
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { deployWorkflow } from '../workflows/deploy-workflow';
import { acknowledgeWildcards, nagArn } from './nag';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class DeployWorkflow extends WorkflowResources<typeof deployWorkflow> {
  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: deployWorkflow, inVpc: ['RunHealthGate'] });
    const { fleet, permissions: p } = props;
    const { lockTable, callbackTable } = p.resources;
    const fn = this.functions;
    const stack = Stack.of(this);

    p.grant(fn.ValidateDeployRequest, p.appendAudit());
    p.grant(fn.AcquireDeployLock, p.table(lockTable, 'PutItem', 'GetItem'), p.appendAudit());
    p.grant(fn.CheckDeployGuards, p.readHaltFlag(), p.describeServices(), p.appendAudit());

    const familyArns = Object.values(fleet.services).map((s) => stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${s.ecsServiceName}:*` }));
    const roleArns = Object.values(fleet.services).flatMap((s) =>
      [s.taskRoleName, s.executionRoleName]
        .filter((r): r is string => r !== undefined)
        .map((r) => stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: r })),
    );
    p.grant(
      fn.RegisterTaskDefinition,
      // Neither action supports resource-level permissions (AWS requires "*").
      new PolicyStatement({ actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], resources: ['*'] }),
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
      p.appendAudit(),
    );
    acknowledgeWildcards(
      this.handlers.RegisterTaskDefinition,
      Object.values(fleet.services).map((s) => nagArn(this, 'ecs', `task-definition/${s.ecsServiceName}:*`)),
      "ecs:TagResource at registration, on the fleet's own task-definition families: the revision number is assigned by ECS.",
    );
    acknowledgeWildcards(this.handlers.RegisterTaskDefinition, ['*'], 'ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition support no resource-level permissions.');

    for (const key of ['StartRollingDeployment', 'RollBackDeployment'] as const) {
      p.grant(fn[key], p.describeServices(), p.updateServices(), p.appendAudit());
    }
    p.grant(fn.AwaitDeploymentOutcome, p.table(callbackTable, 'UpdateItem'), p.taskResponses('deploy'), p.describeServices());
    p.grant(fn.RunHealthGate, p.describeServices(), ...p.clusterTasks(this.handlers.RunHealthGate), p.describeAlarms(), p.appendAudit());
    p.grant(fn.StartSoak, p.table(callbackTable, 'UpdateItem'), p.taskResponses('deploy'), p.describeAlarms());
    p.grant(fn.ReleaseDeployLock, p.table(lockTable, 'DeleteItem', 'GetItem'), p.appendAudit());
    p.grant(fn.RecordDeployOutcome, p.appendAudit());

    // ECS outcomes complete whichever execution waits on the deployment: a deploy's or a rollback's.
    p.grant(fn.HandleDeploymentEvent, p.table(callbackTable, 'UpdateItem'), p.taskResponses('deploy', 'rollback'));
    p.grant(fn.FinalizeInterruptedDeploy, p.queryAudit(), p.appendAudit(), p.table(lockTable, 'DeleteItem'));
  }
}
