/**
 * Every handler's permissions, in one place: what each function may do, keyed
 * by the handler (a handler used by several workflows is deployed once for
 * each, with the same grants), and whether it runs in the fleet's VPC because it
 * calls tasks directly. An auditor reads the whole stack's IAM here; workflow
 * constructs add only what is specific to them (rotation schedules, scheduler
 * roles).
 */
import { Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { awaitDeploymentOutcome } from '../../functions/await-deployment-outcome/core';
import type { Construct } from 'constructs';
import { type WorkflowName } from '../naming';
import { WORKFLOW_SPECS } from '../workflows/registry';
import type { EventRouteName } from '../workflows/workflow-spec';
import type { FleetPermissions } from './fleet-permissions';
import { acknowledgeWildcards, nagArn } from './nag';

export interface GrantContext {
  /** The fleet's resources and the statements that reach them. */
  readonly p: FleetPermissions;
  /** The workflow (or event route) this copy of the handler serves. */
  readonly workflow: WorkflowName | EventRouteName;
  /** The function's construct: cdk-nag findings on its role are acknowledged here. */
  readonly scope: Construct;
  /** The ARN of another function of the same workflow, by its spec key. */
  readonly functionArn: (key: string) => string;
}

export interface HandlerGrants {
  /** Calls tasks directly (health checks, the admin API), so runs in the fleet's VPC. @default false */
  readonly inVpc?: boolean;
  readonly statements: (context: GrantContext) => PolicyStatement[];
}

/** Workflows whose executions wait on ECS deployment outcomes (they run AwaitDeploymentOutcome). */
const waitsOnDeployments = (): WorkflowName[] =>
  WORKFLOW_SPECS.filter((spec) => Object.values(spec.functions).includes(awaitDeploymentOutcome)).map((spec) => spec.name);

/** The workflow a task-token handler answers: its own. */
const ownWorkflow = (workflow: GrantContext['workflow']): WorkflowName => {
  if (workflow === 'alarm-routing' || workflow === 'audit-archive') throw new Error(`${workflow} has no state machine whose tasks it could complete`);
  return workflow;
};

export const HANDLER_GRANTS: Readonly<Record<string, HandlerGrants>> = {
  // Shared by deploy, rollback and rotate-secret.
  'acquire-deploy-lock': { statements: ({ p }) => [p.table(p.resources.lockTable, 'PutItem', 'GetItem'), p.appendAudit()] },
  'release-deploy-lock': { statements: ({ p }) => [p.table(p.resources.lockTable, 'DeleteItem', 'GetItem'), p.appendAudit()] },
  'await-deployment-outcome': {
    statements: ({ p, workflow }) => [p.table(p.resources.callbackTable, 'UpdateItem'), p.taskResponses(ownWorkflow(workflow)), p.describeServices()],
  },
  'run-health-gate': {
    inVpc: true,
    statements: ({ p, scope }) => [p.describeServices(), ...p.clusterTasks(scope), p.describeAlarms(), p.appendAudit()],
  },

  // Deploy.
  'validate-deploy-request': { statements: ({ p }) => [p.appendAudit()] },
  'check-deploy-guards': { statements: ({ p }) => [p.readHaltFlag(), p.describeServices(), p.appendAudit()] },
  'register-task-definition': { statements: ({ p, scope }) => [...p.registerTaskDefinitions(scope), p.appendAudit()] },
  'start-deployment': { statements: ({ p }) => [p.describeServices(), p.updateServices(), ...p.passDeploymentRoles(), p.appendAudit()] },
  // A rollback of a blue/green, canary or linear service hands ECS the traffic-shift role again (no hook).
  'roll-back-deployment': {
    statements: ({ p, scope }) => [
      p.describeServices(),
      p.updateServices(),
      ...p.serviceDeployments(scope),
      ...p.passDeploymentRoles({ hook: false }),
      p.appendAudit(),
    ],
  },
  'start-soak': { statements: ({ p }) => [p.table(p.resources.callbackTable, 'UpdateItem'), p.taskResponses('deploy'), p.describeAlarms()] },
  'record-deploy-outcome': { statements: ({ p }) => [p.appendAudit()] },
  // ECS outcomes complete whichever execution waits on the deployment.
  // It records the events it refuses (foreign, misdated, not of the fleet).
  'handle-deployment-event': {
    statements: ({ p }) => [p.table(p.resources.callbackTable, 'UpdateItem'), p.taskResponses(...waitsOnDeployments()), p.appendAudit()],
  },
  'finalize-interrupted-deploy': { statements: ({ p }) => [p.queryAudit(), p.appendAudit(), p.table(p.resources.lockTable, 'DeleteItem')] },
  // ECS invokes it at each lifecycle stage of a blue/green, canary or linear deployment; it calls the new revision's tasks.
  'judge-deployment-hook': {
    inVpc: true,
    statements: ({ p, scope }) => [
      ...deploymentHookReads(p, scope),
      ...p.clusterTasks(scope),
      p.controlState('GetItem', 'PutItem'),
      p.appendAudit(),
      ...p.page(),
    ],
  },
  'decide-release-approval': { statements: ({ p }) => [p.controlState('GetItem', 'UpdateItem'), p.appendAudit()] },

  // Rollback.
  'validate-rollback-request': { statements: ({ p }) => [p.appendAudit()] },
  // Stopping the deploy that holds the service: its execution records FAILED.
  'stop-deploy-for-rollback': {
    statements: ({ p, scope }) => [p.table(p.resources.lockTable, 'GetItem'), ...p.stopExecutions(scope, 'deploy'), p.appendAudit()],
  },
  'roll-back-service': {
    statements: ({ p, scope }) => [
      p.describeServices(),
      p.updateServices(),
      ...p.serviceDeployments(scope),
      p.describeTaskDefinitions(scope),
      ...p.passDeploymentRoles({ hook: false }),
      p.appendAudit(),
    ],
  },
  'record-rollback-outcome': { statements: ({ p }) => [p.appendAudit(), ...p.page()] },

  // Halt: it may stop trading and nothing more (UpdateService on trading services only).
  'set-halt-flag': { statements: ({ p }) => [p.writeHaltFlag(), p.appendAudit()] },
  'send-halt-commands': { inVpc: true, statements: ({ p, scope }) => [...p.clusterTasks(scope), ...p.readAdminToken(scope), p.appendAudit()] },
  'stop-deploy-executions': {
    statements: ({ p, scope }) => [...p.stopExecutions(scope, 'deploy', { list: true }), ...p.serviceDeployments(scope), p.appendAudit()],
  },
  'hard-stop-services': {
    statements: ({ p }) => [p.describeServices(), p.updateServices(p.tradingServiceArns()), p.controlState('PutItem'), p.appendAudit()],
  },
  'verify-halt': { inVpc: true, statements: ({ p, scope }) => [...p.clusterTasks(scope), ...p.readAdminToken(scope), p.appendAudit()] },
  'record-halt-outcome': { statements: ({ p }) => [p.appendAudit()] },

  // Resume.
  'validate-resume-request': { statements: ({ p }) => [p.readHaltFlag(), p.appendAudit()] },
  'request-resume-approval': { statements: ({ p }) => [p.controlState('PutItem'), ...p.page()] },
  'request-resume': { statements: ({ p }) => [p.startExecution('resume')] },
  'decide-resume-approval': { statements: ({ p }) => [p.controlState('GetItem', 'UpdateItem'), p.taskResponses('resume'), p.appendAudit()] },
  'check-resume-readiness': {
    inVpc: true,
    statements: ({ p, scope }) => [p.readHaltFlag(), p.describeAlarms(), p.describeServices(), ...p.clusterTasks(scope), p.controlState('GetItem')],
  },
  'restore-capacity': {
    statements: ({ p }) => [p.describeServices(), p.updateServices(p.tradingServiceArns()), p.controlState('GetItem'), p.appendAudit()],
  },
  'send-resume-commands': { inVpc: true, statements: ({ p, scope }) => [...p.clusterTasks(scope), ...p.readAdminToken(scope), p.appendAudit()] },
  'clear-halt-flag': { statements: ({ p }) => [p.writeHaltFlag(), p.appendAudit()] },
  'record-resume-outcome': { statements: ({ p }) => [p.appendAudit(), ...p.page()] },

  // Rotate-secret: Secrets Manager actions only on the managed secrets, UpdateService only on their consumers.
  // No function here may read a secret's value except the rotation function (its grants come with its RotationSchedule).
  'validate-rotation-request': { statements: ({ p, scope }) => [p.managedSecrets(scope, 'DescribeSecret'), p.appendAudit()] },
  'check-rotation-guards': { statements: ({ p, scope }) => [p.describeServices(), p.describeTaskDefinitions(scope), p.readHaltFlag(), p.appendAudit()] },
  'start-secret-rotation': {
    statements: ({ p, scope, functionArn }) => [
      p.managedSecrets(scope, 'DescribeSecret', 'RotateSecret'),
      // RotateSecret runs the secret's rotation function on the caller's behalf.
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [functionArn('RotateSecretValue')] }),
      p.controlState('PutItem'),
      p.appendAudit(),
    ],
  },
  'confirm-secret-rotation': { statements: ({ p, scope }) => [p.managedSecrets(scope, 'DescribeSecret')] },
  'restart-consumer-tasks': {
    statements: ({ p }) => [
      p.describeServices(),
      p.updateServices(p.secretConsumerArns()),
      ...p.passDeploymentRoles({ services: p.secretConsumerIds(), hook: false }),
      p.appendAudit(),
    ],
  },
  'verify-consumer-tasks': { statements: ({ p, scope }) => [...p.clusterTasks(scope), p.appendAudit()] },
  'restore-previous-secret-version': { statements: ({ p, scope }) => [p.managedSecrets(scope, 'DescribeSecret', 'UpdateSecretVersionStage'), p.appendAudit()] },
  'record-rotation-outcome': { statements: ({ p }) => [p.appendAudit(), ...p.page()] },
  'start-rotation-from-event': {
    statements: ({ p, scope }) => [
      p.managedSecrets(scope, 'DescribeSecret'),
      p.controlState('PutItem', 'DeleteItem'),
      p.startExecution('rotate-secret'),
      p.appendAudit(),
    ],
  },
  'rotate-secret-value': { statements: () => [] },

  // Scale: UpdateService only on the services that have a scaling policy.
  'validate-scale-request': { statements: ({ p }) => [p.appendAudit()] },
  'decide-scaling': {
    statements: ({ p }) => [
      ...(p.scalingServiceArns().length > 0 ? [p.describeServices()] : []),
      p.readHaltFlag(),
      p.table(p.resources.lockTable, 'GetItem'),
      p.controlState('GetItem', 'PutItem'),
      p.appendAudit(),
    ],
  },
  'apply-scaling-decision': {
    statements: ({ p }) => [...(p.scalingServiceArns().length > 0 ? [p.updateServices(p.scalingServiceArns())] : []), p.appendAudit()],
  },
  'record-scaling-outcome': { statements: ({ p }) => [p.controlState('PutItem', 'DeleteItem'), p.appendAudit(), ...p.page()] },

  // Release: the release record and latest pushes in the control-state table; ECS reads for revisions and the consistency proof.
  'plan-release': {
    statements: ({ p, scope }) => [
      p.controlState('GetItem', 'PutItem'),
      p.describeServices(),
      p.describeTaskDefinitions(scope),
      p.readHaltFlag(),
      p.appendAudit(),
    ],
  },
  'check-release-is-newest': { statements: ({ p }) => [p.controlState('GetItem')] },
  'advance-release': {
    statements: ({ p, scope }) => [p.controlState('GetItem', 'PutItem'), p.describeServices(), p.describeTaskDefinitions(scope), p.appendAudit()],
  },
  'plan-release-rollback': { statements: ({ p }) => [p.controlState('GetItem', 'PutItem'), p.appendAudit()] },
  'prove-release-consistency': { statements: ({ p, scope }) => [p.controlState('GetItem', 'PutItem'), ...p.clusterTasks(scope), p.appendAudit()] },
  'record-release-outcome': {
    statements: ({ p, scope }) => [p.controlState('GetItem', 'PutItem'), p.describeServices(), p.describeTaskDefinitions(scope), p.appendAudit(), ...p.page()],
  },
  'finalize-interrupted-release': {
    statements: ({ p, scope }) => [p.controlState('GetItem', 'PutItem'), p.describeServices(), p.describeTaskDefinitions(scope), p.appendAudit(), ...p.page()],
  },
  // The push rule's target: claims and the latest push (PutItem, DeleteItem to give a claim back), the halt flag, a page, the release.
  'start-release-from-push': {
    statements: ({ p }) => [p.controlState('PutItem', 'DeleteItem'), p.readHaltFlag(), ...p.page(), p.startExecution('release'), p.appendAudit()],
  },

  // Alarm routing: write the halt flag first, start rollbacks, halts and scaling, claim guard rails, page.
  'route-alarm-event': {
    statements: ({ p }) => [
      p.appendAudit(),
      // Guard-rail claims, and giving them back when the action they guard fails to start.
      p.controlState('PutItem', 'UpdateItem', 'DeleteItem'),
      p.table(p.resources.callbackTable, 'GetItem'),
      p.table(p.resources.lockTable, 'GetItem'),
      p.describeServices(),
      p.writeHaltFlag(),
      ...p.page(),
      p.startExecution('rollback', 'halt', 'scale'),
      // A rollback alarm during a deploy's soak completes the soak's wait: the deploy rolls itself back.
      p.taskResponses('deploy'),
    ],
  },

  // The audit table's stream into the write-once bucket (its stream reads and dead-letter sends come with the event source mapping).
  'archive-audit-records': { statements: ({ p, scope }) => p.archiveAudit(scope) },
};

/** The rule Step Functions manages to learn when a nested execution it waits on (`.sync`) closes. */
export const MANAGED_EXECUTION_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

/**
 * What a state machine's role needs to run other state machines with
 * `startExecution.sync:2`: StartExecution on them, DescribeExecution and
 * StopExecution on their executions, and the managed rule's events actions.
 */
function nestedExecutions(p: FleetPermissions, scope: Construct, ...workflows: WorkflowName[]): PolicyStatement[] {
  const rule = Stack.of(scope).formatArn({ service: 'events', resource: 'rule', resourceName: MANAGED_EXECUTION_RULE });
  return [
    p.startExecution(...workflows),
    ...workflows.flatMap((w) => p.stopExecutions(scope, w)),
    new PolicyStatement({ actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], resources: [rule] }),
  ];
}

/** What a state machine's own role may do beyond invoking its functions; `scope` is that role (for cdk-nag acknowledgements). */
export const STATE_MACHINE_GRANTS: { readonly [W in WorkflowName]?: (p: FleetPermissions, scope: Construct) => PolicyStatement[] } = {
  // The halt pages on-call itself (an SNS task), so a page goes out even if a function cannot run.
  halt: (p) => [...p.page()],
  // A release deploys each service through the deploy state machine and rolls back through the rollback one.
  release: (p, scope) => nestedExecutions(p, scope, 'deploy', 'rollback'),
};

export function grantsFor(handlerName: string): HandlerGrants {
  const grants = HANDLER_GRANTS[handlerName];
  if (!grants) throw new Error(`No grants are declared for handler ${handlerName}: add it to HANDLER_GRANTS (lib/constructs/handler-grants.ts)`);
  return grants;
}

/**
 * What the deployment hook reads besides tasks: its deployment and revision (the
 * Service Authorization Reference requires the service and the deployment or
 * revision), the listener rules and the target groups' metrics (both wildcard-only
 * actions).
 */
function deploymentHookReads(p: FleetPermissions, scope: Construct): PolicyStatement[] {
  const cluster = p.resources.fleet.cluster;
  const stack = Stack.of(scope);
  const ecsArn = (resource: string): string => stack.formatArn({ service: 'ecs', resource, resourceName: `${cluster}/*` });
  acknowledgeWildcards(
    scope,
    [nagArn(scope, 'ecs', `service-deployment/${cluster}/*`), nagArn(scope, 'ecs', `service-revision/${cluster}/*`)],
    "Service deployments and revisions of the fleet's cluster: ECS assigns their ids.",
  );
  return [
    new PolicyStatement({ actions: ['ecs:DescribeServiceDeployments'], resources: [...p.serviceArns(), ecsArn('service-deployment')] }),
    new PolicyStatement({ actions: ['ecs:DescribeServiceRevisions'], resources: [...p.serviceArns(), ecsArn('service-revision')] }),
    new PolicyStatement({ actions: ['elasticloadbalancing:DescribeRules', 'cloudwatch:GetMetricStatistics'], resources: ['*'] }),
  ];
}
