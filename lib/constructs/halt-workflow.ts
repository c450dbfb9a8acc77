/**
 * The kill switch in AWS: its functions, the state machine from
 * state-machines/halt.asl.json, and grants that let it stop trading and nothing
 * more (UpdateService on the fleet's trading services only).
 */
import type { Construct } from 'constructs';
import { haltWorkflow } from '../workflows/halt-workflow';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class HaltWorkflow extends WorkflowResources<typeof haltWorkflow> {
  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: haltWorkflow, inVpc: ['SendHaltCommands', 'VerifyHalt'] });
    const { permissions: p } = props;
    const fn = this.functions;
    const h = this.handlers;

    p.grant(fn.SetHaltFlag, p.writeHaltFlag(), p.appendAudit());
    p.grant(fn.SendHaltCommands, ...p.clusterTasks(h.SendHaltCommands), ...p.readAdminToken(h.SendHaltCommands), p.appendAudit());
    p.grant(
      fn.StopDeployExecutions,
      ...p.stopExecutions(h.StopDeployExecutions, 'deploy', { list: true }),
      ...p.serviceDeployments(h.StopDeployExecutions),
      p.appendAudit(),
    );
    p.grant(fn.HardStopServices, p.describeServices(), p.updateServices(p.tradingServiceArns()), p.controlState('PutItem'), p.appendAudit());
    p.grant(fn.VerifyHalt, ...p.clusterTasks(h.VerifyHalt), ...p.readAdminToken(h.VerifyHalt), p.appendAudit());
    p.grant(fn.RecordHaltOutcome, p.appendAudit());
    // The state machine pages on-call itself (an SNS task), so a page goes out even if a function cannot run.
    this.stateMachine?.addToRolePolicy(p.page());
  }
}
