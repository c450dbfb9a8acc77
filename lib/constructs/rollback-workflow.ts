/**
 * The rollback workflow in AWS: its functions, the state machine from
 * state-machines/rollback.asl.json, and each function's grants.
 */
import type { Construct } from 'constructs';
import { rollbackWorkflow } from '../workflows/rollback-workflow';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class RollbackWorkflow extends WorkflowResources<typeof rollbackWorkflow> {
  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: rollbackWorkflow, inVpc: ['RunHealthGate'] });
    const { permissions: p } = props;
    const { lockTable, callbackTable } = p.resources;
    const fn = this.functions;

    p.grant(fn.ValidateRollbackRequest, p.appendAudit());
    // Stopping the deploy that holds the service: its execution records FAILED.
    p.grant(fn.StopDeployForRollback, p.table(lockTable, 'GetItem'), ...p.stopExecutions(this.handlers.StopDeployForRollback, 'deploy'), p.appendAudit());
    p.grant(fn.AcquireDeployLock, p.table(lockTable, 'PutItem', 'GetItem'), p.appendAudit());
    p.grant(
      fn.RollBackService,
      p.describeServices(),
      p.updateServices(),
      ...p.serviceDeployments(this.handlers.RollBackService),
      p.describeTaskDefinitions(this.handlers.RollBackService),
      p.appendAudit(),
    );
    p.grant(fn.AwaitDeploymentOutcome, p.table(callbackTable, 'UpdateItem'), p.taskResponses('rollback'), p.describeServices());
    p.grant(fn.RunHealthGate, p.describeServices(), ...p.clusterTasks(this.handlers.RunHealthGate), p.describeAlarms(), p.appendAudit());
    p.grant(fn.ReleaseDeployLock, p.table(lockTable, 'DeleteItem', 'GetItem'), p.appendAudit());
    p.grant(fn.RecordRollbackOutcome, p.appendAudit(), p.page());
  }
}
