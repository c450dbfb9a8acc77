/** Every workflow, for the sandbox (the CDK stack has one construct per workflow). */
import { deployWorkflow } from './deploy-workflow';
import type { WorkflowSpec } from './workflow-spec';

export const WORKFLOW_SPECS: readonly WorkflowSpec[] = [deployWorkflow];
