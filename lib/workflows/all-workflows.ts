/** Every workflow and the alarm routing, for the sandbox (the CDK stack has one construct each). */
import { alarmRouting } from './alarm-routing';
import { deployWorkflow } from './deploy-workflow';
import { haltWorkflow } from './halt-workflow';
import { resumeWorkflow } from './resume-workflow';
import { rollbackWorkflow } from './rollback-workflow';
import { rotateSecretWorkflow } from './rotate-secret-workflow';
import { scaleWorkflow } from './scale-workflow';
import type { WorkflowSpec } from './workflow-spec';

export const WORKFLOW_SPECS: readonly WorkflowSpec[] = [deployWorkflow, rollbackWorkflow, haltWorkflow, resumeWorkflow, rotateSecretWorkflow, scaleWorkflow, alarmRouting];
