/**
 * The resume workflow in AWS: its functions, the state machine from
 * state-machines/resume.asl.json, the approvers' decision function, and grants.
 */
import type { Construct } from 'constructs';
import { resumeWorkflow } from '../workflows/resume-workflow';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class ResumeWorkflow extends WorkflowResources<typeof resumeWorkflow> {
  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: resumeWorkflow, inVpc: ['CheckResumeReadiness', 'SendResumeCommands'] });
    const { permissions: p } = props;
    const fn = this.functions;
    const h = this.handlers;

    p.grant(fn.ValidateResumeRequest, p.readHaltFlag(), p.appendAudit());
    p.grant(fn.RequestResumeApproval, p.controlState('PutItem'), p.page());
    p.grant(fn.DecideResumeApproval, p.controlState('GetItem', 'UpdateItem'), p.taskResponses('resume'), p.appendAudit());
    p.grant(
      fn.CheckResumeReadiness,
      p.readHaltFlag(),
      p.describeAlarms(),
      p.describeServices(),
      ...p.clusterTasks(h.CheckResumeReadiness),
      p.controlState('GetItem'),
    );
    p.grant(fn.RestoreCapacity, p.describeServices(), p.updateServices(p.tradingServiceArns()), p.controlState('GetItem'), p.appendAudit());
    p.grant(fn.SendResumeCommands, ...p.clusterTasks(h.SendResumeCommands), ...p.readAdminToken(h.SendResumeCommands), p.appendAudit());
    p.grant(fn.ClearHaltFlag, p.writeHaltFlag(), p.appendAudit());
    p.grant(fn.RecordResumeOutcome, p.appendAudit(), p.page());
  }
}
