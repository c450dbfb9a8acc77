/**
 * The registry: every workflow and event route Assure has. The CDK stack, the
 * sandbox, the handler configuration and the CLI all loop over it; adding a
 * workflow is one line here (and its name in workflow-names.ts's WORKFLOWS, which the
 * Lambda runtime reads without importing any handler).
 */
import type { WorkflowName } from '../naming';
import { WORKFLOWS } from '../naming';
import { alarmRouting } from './alarm-routing';
import { auditArchive } from './audit-archive';
import { deployWorkflow } from './deploy-workflow';
import { haltWorkflow } from './halt-workflow';
import { releaseWorkflow } from './release-workflow';
import { resumeWorkflow } from './resume-workflow';
import { rollbackWorkflow } from './rollback-workflow';
import { rotateSecretWorkflow } from './rotate-secret-workflow';
import { scaleWorkflow } from './scale-workflow';
import type { EventRouteSpec, ResourceGroupSpec, WorkflowSpec } from './workflow-spec';

export const WORKFLOW_REGISTRY = {
  deploy: deployWorkflow,
  rollback: rollbackWorkflow,
  halt: haltWorkflow,
  resume: resumeWorkflow,
  'rotate-secret': rotateSecretWorkflow,
  scale: scaleWorkflow,
  release: releaseWorkflow,
} as const satisfies { readonly [W in WorkflowName]: WorkflowSpec & { readonly name: W } };

export const EVENT_ROUTES = [alarmRouting, auditArchive] as const satisfies readonly EventRouteSpec[];

/** Every workflow, in WORKFLOWS order. */
export const WORKFLOW_SPECS: readonly WorkflowSpec[] = WORKFLOWS.map((name) => WORKFLOW_REGISTRY[name]);

/** Every workflow, then every event route: all that owns functions and rules. */
export const ALL_SPECS: readonly ResourceGroupSpec[] = [...WORKFLOW_SPECS, ...EVENT_ROUTES];
