/**
 * The blue/green, canary and linear deployment controller (developer guide:
 * "Amazon ECS blue/green service deployments workflow", "canary deployments",
 * "linear deployments", "Lifecycle hooks for Amazon ECS service deployments").
 *
 * A deployment runs the lifecycle stages in order. The green revision's tasks
 * start at the full desired count in the alternate target group beside blue
 * (SCALE_UP ends when every one is healthy there); the test listener rule then
 * forwards to green (TEST_TRAFFIC_SHIFT); production shifts all at once
 * (BLUE_GREEN), canaryPercent then the rest after canaryBakeTimeInMinutes
 * (CANARY), or stepPercent at a time with stepBakeTimeInMinutes between steps
 * (LINEAR), each step being a PRE_PRODUCTION_TRAFFIC_SHIFT and a
 * PRODUCTION_TRAFFIC_SHIFT; then BAKE_TIME (bakeTimeInMinutes, alarms still
 * watched) and CLEAN_UP (blue's tasks drain and stop), and the deployment
 * COMPLETES. On the next deployment the target groups swap roles.
 *
 * At each stage its hooks run one after the other, after the stage's action (a
 * shift's hooks see the new weights). SUCCEEDED moves on; IN_PROGRESS invokes
 * the hook again after callBackDelay with the hookDetails it returned; FAILED,
 * a missing or invalid status, or an error fails the deployment, which rolls
 * back (`rolledBack`, below).
 *
 * The state lives on the deployment record (`progressive`), so a snapshot can be
 * re-armed; each run reads it afresh and can run after any change.
 */
import { CANARY_DEFAULTS, LINEAR_DEFAULTS } from './progressive-configuration';
import type { EcsLoadBalancing, HookInvoker, LifecycleHookPayload } from './load-balancing';
import { readHookAnswer } from './load-balancing';
import {
  type DeploymentRecord,
  LIFECYCLE_STAGES,
  type LifecycleHookConfig,
  type LifecycleStage,
  type ProgressiveState,
  type ServiceRecord,
  type TaskRecord,
  taskId,
} from './records';
import type { ServiceDeployments } from './service-deployments';
import type { EcsState } from './state';
import type { TaskDefinitions } from './task-definitions';
import type { TaskLifecycle } from './task-lifecycle';

export interface ProgressiveParts {
  readonly state: EcsState;
  readonly definitions: TaskDefinitions;
  readonly lifecycle: TaskLifecycle;
  readonly deployments: ServiceDeployments;
  readonly elb?: EcsLoadBalancing;
  readonly invokeHook?: HookInvoker;
  /** Runs the service's next step (whichever controller owns it). */
  readonly reconcile: (service: ServiceRecord) => void;
}

export class ProgressiveController {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly parts: ProgressiveParts) {}

  /** Sets a new PRIMARY deployment of a BLUE_GREEN, CANARY or LINEAR service on its lifecycle stages. */
  begin(service: ServiceRecord, deployment: DeploymentRecord): void {
    const config = service.deploymentConfiguration;
    const strategy = config.strategy;
    const lb = service.loadBalancers.find((l) => l.advancedConfiguration);
    if (!lb?.advancedConfiguration || strategy === undefined || strategy === 'ROLLING') return;
    const advanced = lb.advancedConfiguration;
    const source = service.deployments.find((d) => d !== deployment && d.rolloutState === 'COMPLETED') ?? service.deployments.find((d) => d !== deployment);
    if (!source) return;
    const sourceTargetGroupArn = source.targetGroupArn ?? lb.targetGroupArn;
    const targetGroupArn = sourceTargetGroupArn === advanced.alternateTargetGroupArn ? lb.targetGroupArn : advanced.alternateTargetGroupArn;
    source.targetGroupArn = sourceTargetGroupArn;
    deployment.targetGroupArn = targetGroupArn;
    deployment.progressive = {
      strategy,
      phase: 'deploying',
      stage: 'RECONCILE_SERVICE',
      part: 'action',
      executionId: this.parts.state.context.random.uuid(),
      hooks: structuredClone(config.lifecycleHooks ?? []),
      sourceDeploymentId: source.id,
      sourceRevisionArn: source.serviceRevisionArn,
      sourceTargetGroupArn,
      targetGroupArn,
      ...(advanced.productionListenerRule ? { productionListenerRule: advanced.productionListenerRule } : {}),
      ...(advanced.testListenerRule ? { testListenerRule: advanced.testListenerRule } : {}),
      steps: trafficSteps(service),
      stepIndex: 0,
      stepBakeMs: stepBakeMinutes(service) * 60_000,
      bakeMs: (config.bakeTimeInMinutes ?? 0) * 60_000,
      productionWeight: 0,
      testOnGreen: false,
      hookIndex: 0,
    };
    // RECONCILE_SERVICE runs only when more than one service revision is ACTIVE (a deployment was still in progress).
    const activeRevisions = new Set(
      this.parts.state
        .serviceTasks(service)
        .filter((t) => t.desiredStatus === 'RUNNING' && t.deploymentId !== deployment.id)
        .map((t) => t.deploymentId),
    );
    deployment.progressive.reconcileService = activeRevisions.size > 1;
    // A deployment replaced mid-way leaves tasks in the target group green now takes: they stop, and traffic is blue's.
    const leftovers = this.parts.state
      .serviceTasks(service)
      .filter((t) => t.desiredStatus === 'RUNNING' && t.deploymentId !== source.id && t.deploymentId !== deployment.id);
    if (leftovers.length > 0) this.parts.lifecycle.stopTasks(service, leftovers, `Scaling activity initiated by (deployment ${deployment.id})`);
    this.shift(deployment.progressive, 0, false);
    this.parts.deployments.setLifecycleStage(service, deployment, 'RECONCILE_SERVICE');
  }

  /**
   * A new deployment replaces whatever blue/green, canary or linear deployment (or rollback) was under way:
   * its traffic goes back to the revision it started from, and it stops acting.
   */
  abandon(service: ServiceRecord): void {
    for (const deployment of service.deployments) {
      const p = deployment.progressive;
      if (!p) continue;
      if (p.phase === 'deploying') this.shift(p, 0, false);
      delete deployment.progressive;
    }
  }

  /** Takes the primary deployment's next lifecycle step. */
  reconcile(service: ServiceRecord): void {
    if (service.status !== 'ACTIVE') return;
    const deployment = this.parts.state.primary(service);
    const p = deployment.progressive;
    if (!p) return;
    if (p.phase === 'rollback') {
      this.rollbackStep(service, deployment, p);
      return;
    }
    if (deployment.rolloutState !== 'IN_PROGRESS') return;
    for (let guard = 0; guard < 64; guard += 1) {
      if (p.part === 'action') {
        if (!this.action(service, deployment, p)) return;
        p.part = 'hooks';
        p.hookIndex = 0;
        delete p.hookDetails;
        delete p.hookAt;
      }
      if (p.part === 'hooks') {
        const skip = p.stage === 'RECONCILE_SERVICE' && p.reconcileService !== true;
        const hook = skip ? undefined : hooksAt(p.hooks, p.stage)[p.hookIndex];
        if (hook) {
          this.runHook(service, deployment, p, hook);
          return;
        }
        p.part = 'after';
      }
      if (!this.after(service, p)) return;
      if (!this.nextStage(service, deployment, p)) return;
    }
  }

  // ---------------------------------------------------------------- stages

  /** The stage's own work; true once it is done. */
  private action(service: ServiceRecord, deployment: DeploymentRecord, p: ProgressiveState): boolean {
    const now = Date.now();
    switch (p.stage) {
      case 'SCALE_UP':
        return this.scaleUp(service, deployment);
      case 'TEST_TRAFFIC_SHIFT':
        this.shift(p, p.productionWeight, true);
        return true;
      case 'PRODUCTION_TRAFFIC_SHIFT':
        this.shift(p, p.steps[p.stepIndex] ?? 100, p.testOnGreen);
        p.shiftedAt = now;
        this.parts.state.addServiceEvent(
          service,
          `(service ${service.serviceName}) (deployment ${deployment.id}) shifted ${p.productionWeight}% of production traffic to (target-group ${p.targetGroupArn}).`,
        );
        return true;
      case 'BAKE_TIME':
        return this.waitUntil(service, p, (p.waitUntil ??= now + p.bakeMs));
      case 'CLEAN_UP': {
        const blue = this.parts.state.serviceTasks(service).filter((t) => t.deploymentId !== deployment.id);
        const live = blue.filter((t) => t.desiredStatus === 'RUNNING');
        if (live.length > 0) this.parts.lifecycle.stopTasks(service, live, `Scaling activity initiated by (deployment ${deployment.id})`);
        return blue.every((t) => t.lastStatus === 'STOPPED');
      }
      default:
        return true;
    }
  }

  /** After the stage's hooks: a canary or linear step bakes before the next one. */
  private after(service: ServiceRecord, p: ProgressiveState): boolean {
    if (p.stage !== 'PRODUCTION_TRAFFIC_SHIFT' || p.stepIndex >= p.steps.length - 1) return true;
    return this.waitUntil(service, p, (p.waitUntil ??= (p.shiftedAt ?? Date.now()) + p.stepBakeMs));
  }

  /** Moves to the next stage (the next traffic step, or the end); false once the deployment completed. */
  private nextStage(service: ServiceRecord, deployment: DeploymentRecord, p: ProgressiveState): boolean {
    delete p.waitUntil;
    p.part = 'action';
    p.hookIndex = 0;
    if (p.stage === 'CLEAN_UP') {
      delete deployment.progressive;
      this.parts.deployments.complete(service, deployment);
      return false;
    }
    if (p.stage === 'PRODUCTION_TRAFFIC_SHIFT' && p.stepIndex < p.steps.length - 1) {
      p.stepIndex += 1;
      p.stage = 'PRE_PRODUCTION_TRAFFIC_SHIFT';
    } else {
      p.stage = LIFECYCLE_STAGES[LIFECYCLE_STAGES.indexOf(p.stage) + 1] ?? 'CLEAN_UP';
    }
    this.parts.deployments.setLifecycleStage(service, deployment, p.stage);
    return true;
  }

  /** Starts green's tasks (the full desired count, in the alternate target group); true once all of them serve. */
  private scaleUp(service: ServiceRecord, deployment: DeploymentRecord): boolean {
    const now = Date.now();
    const green = (): TaskRecord[] => this.parts.state.serviceTasks(service).filter((t) => t.deploymentId === deployment.id && t.desiredStatus === 'RUNNING');
    const missing = deployment.desiredCount - green().length;
    if (missing > 0 && service.relaunchNotBefore > now) {
      this.arm(service, service.relaunchNotBefore);
    } else if (missing > 0) {
      const definition = this.parts.definitions.byArn(deployment.taskDefinition);
      if (definition) {
        const started = Array.from({ length: missing }, () => this.parts.lifecycle.startTask(service, deployment, definition));
        this.parts.state.addServiceEvent(
          service,
          `(service ${service.serviceName}) has started ${started.length} tasks: ${started.map((t) => `(task ${taskId(t)})`).join(' ')}.`,
        );
      }
    }
    const tasks = green();
    return tasks.length === deployment.desiredCount && tasks.every((t) => isServing(t));
  }

  // ---------------------------------------------------------------- traffic

  /** Sets the rules: green's production weight, and the test rule on green or on blue. */
  shift(p: ProgressiveState, productionWeight: number, testOnGreen: boolean): void {
    p.productionWeight = productionWeight;
    p.testOnGreen = testOnGreen;
    const elb = this.parts.elb;
    if (!elb) return;
    if (p.productionListenerRule) {
      elb.forward(p.productionListenerRule, [
        { targetGroupArn: p.sourceTargetGroupArn, weight: 100 - productionWeight },
        { targetGroupArn: p.targetGroupArn, weight: productionWeight },
      ]);
    }
    if (p.testListenerRule) elb.forward(p.testListenerRule, [{ targetGroupArn: testOnGreen ? p.targetGroupArn : p.sourceTargetGroupArn, weight: 100 }]);
  }

  // ---------------------------------------------------------------- hooks

  private runHook(service: ServiceRecord, deployment: DeploymentRecord, p: ProgressiveState, hook: LifecycleHookConfig): void {
    if (p.hookInFlight) return;
    if (p.hookAt !== undefined && p.hookAt > Date.now()) {
      this.arm(service, p.hookAt);
      return;
    }
    const details = p.hookDetails ?? hook.hookDetails;
    const payload = this.payload(service, deployment.serviceRevisionArn, deployment.serviceDeploymentArn, p, p.stage, details);
    const at = { stage: p.stage, index: p.hookIndex, step: p.stepIndex };
    const current = (): boolean =>
      deployment.progressive === p &&
      deployment.status === 'PRIMARY' &&
      deployment.rolloutState === 'IN_PROGRESS' &&
      p.stage === at.stage &&
      p.hookIndex === at.index &&
      p.stepIndex === at.step;
    p.hookInFlight = true;
    this.invoke(hook, payload).then(
      (result) => {
        if (!current()) return;
        p.hookInFlight = false;
        const answer = readHookAnswer(result);
        if (answer.status === 'SUCCEEDED') {
          p.hookIndex += 1;
          delete p.hookDetails;
          delete p.hookAt;
        } else if (answer.status === 'IN_PROGRESS') {
          if (answer.hookDetails !== undefined) p.hookDetails = answer.hookDetails;
          else if (details !== undefined) p.hookDetails = details;
          p.hookAt = Date.now() + answer.callBackDelaySeconds * 1000;
        } else {
          this.hookFailed(service, deployment, hook, p.stage, answer.reason);
        }
        this.parts.reconcile(service);
      },
      (error: unknown) => {
        if (!current()) return;
        p.hookInFlight = false;
        this.hookFailed(service, deployment, hook, p.stage, `the hook's invocation failed: ${error instanceof Error ? error.message : String(error)}`);
        this.parts.reconcile(service);
      },
    );
  }

  private hookFailed(service: ServiceRecord, deployment: DeploymentRecord, hook: LifecycleHookConfig, stage: LifecycleStage, reason: string): void {
    this.parts.deployments.failDeployment(
      service,
      deployment,
      `ECS deployment ${deployment.id} failed: lifecycle hook ${hook.hookTargetArn} at ${stage}: ${reason}.`,
      `lifecycle hook ${hook.hookTargetArn} failed at ${stage}.`,
      'ECS deployment lifecycle hook',
    );
  }

  invoke(hook: { hookTargetArn: string; roleArn: string }, payload: LifecycleHookPayload): Promise<unknown> {
    const invoker = this.parts.invokeHook;
    if (!invoker) return Promise.reject(new Error('no Lambda to invoke the hook with'));
    try {
      return invoker(hook, payload);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** AWS's hook payload; the weights are by service revision ARN. */
  payload(
    service: ServiceRecord,
    targetRevisionArn: string,
    resourceArn: string,
    p: ProgressiveState,
    stage: LifecycleStage,
    hookDetails: unknown,
  ): LifecycleHookPayload {
    const blue = p.sourceRevisionArn;
    // Rolling back, traffic is all on the old revision again; otherwise green has its step's weight.
    const green = p.phase === 'rollback' ? (p.rolledBackRevisionArn ?? '') : targetRevisionArn;
    const greenWeight = p.phase === 'rollback' ? 0 : p.productionWeight;
    const testOnGreen = p.phase === 'rollback' ? false : p.testOnGreen;
    return {
      executionDetails: {
        serviceArn: service.serviceArn,
        targetServiceRevisionArn: targetRevisionArn,
        testTrafficWeights: p.testListenerRule ? { [testOnGreen ? green : blue]: 100 } : {},
        productionTrafficWeights: { [blue]: 100 - greenWeight, [green]: greenWeight },
      },
      executionId: p.executionId,
      lifecycleStage: stage,
      resourceArn,
      ...(hookDetails === undefined ? {} : { hookDetails }),
    };
  }

  // ---------------------------------------------------------------- rollback

  /**
   * A failed (or stopped) deployment rolls back: ServiceDeployments already made `target` (blue) PRIMARY again.
   * Production and test traffic go back to blue at once and green's tasks stop; then the hooks registered for
   * PRODUCTION_TRAFFIC_SHIFT and TEST_TRAFFIC_SHIFT are invoked for the rollback (target revision: blue), and the
   * rollback completes.
   */
  rolledBack(service: ServiceRecord, failed: DeploymentRecord, target: DeploymentRecord): void {
    const p = failed.progressive;
    if (!p) return;
    delete failed.progressive;
    this.shift(p, 0, false);
    const green = this.parts.state.serviceTasks(service).filter((t) => t.deploymentId === failed.id && t.desiredStatus === 'RUNNING');
    if (green.length > 0) this.parts.lifecycle.stopTasks(service, green, `Scaling activity initiated by (deployment ${target.id})`);
    const rollbackHooks = (['PRODUCTION_TRAFFIC_SHIFT', 'TEST_TRAFFIC_SHIFT'] as const).flatMap((stage) =>
      hooksAt(p.hooks, stage).map((h) => ({
        hookTargetArn: h.hookTargetArn,
        roleArn: h.roleArn,
        lifecycleStage: stage,
        ...(h.hookDetails === undefined ? {} : { hookDetails: h.hookDetails }),
      })),
    );
    target.progressive = {
      ...p,
      phase: 'rollback',
      part: 'hooks',
      hookIndex: 0,
      hookInFlight: false,
      productionWeight: 0,
      testOnGreen: false,
      rolledBackDeploymentArn: failed.serviceDeploymentArn,
      rolledBackRevisionArn: failed.serviceRevisionArn,
      rollbackHooks,
    };
    this.parts.state.addServiceEvent(
      service,
      `(service ${service.serviceName}) (deployment ${failed.id}) production and test traffic shifted back to (target-group ${p.sourceTargetGroupArn}).`,
    );
  }

  /**
   * The rollback's hooks, each invoked once: traffic is already back on the old revision, so an answer other
   * than SUCCEEDED (or an error) is recorded in the service events and does not hold the rollback. The rollback
   * then completes (ROLLBACK_SUCCESSFUL).
   */
  private rollbackStep(service: ServiceRecord, deployment: DeploymentRecord, p: ProgressiveState): void {
    if (p.hookInFlight) return;
    const hook = p.rollbackHooks?.[p.hookIndex];
    if (!hook) {
      delete deployment.progressive;
      this.parts.deployments.complete(service, deployment);
      return;
    }
    const payload = this.payload(service, deployment.serviceRevisionArn, p.rolledBackDeploymentArn ?? '', p, hook.lifecycleStage, hook.hookDetails);
    p.hookInFlight = true;
    const done = (outcome: string): void => {
      if (deployment.progressive !== p) return;
      p.hookInFlight = false;
      if (outcome !== 'SUCCEEDED') {
        this.parts.state.addServiceEvent(
          service,
          `(service ${service.serviceName}) rollback lifecycle hook ${hook.hookTargetArn} at ${hook.lifecycleStage} answered ${outcome}; the rollback continues.`,
        );
      }
      p.hookIndex += 1;
      this.parts.reconcile(service);
    };
    this.invoke(hook, payload).then(
      (result) => {
        const answer = readHookAnswer(result);
        done(answer.status === 'FAILED' ? `FAILED (${answer.reason})` : answer.status);
      },
      (error: unknown) => done(`an error (${error instanceof Error ? error.message : String(error)})`),
    );
  }

  // ---------------------------------------------------------------- timers

  private waitUntil(service: ServiceRecord, p: ProgressiveState, at: number): boolean {
    if (Date.now() >= at) return true;
    this.arm(service, at);
    return false;
  }

  /** Runs the service's next step at `at`, once however often it is asked for. */
  arm(service: ServiceRecord, at: number): void {
    const key = `${service.serviceArn}:${at}`;
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(
        () => {
          this.timers.delete(key);
          this.parts.reconcile(service);
        },
        Math.max(0, at - Date.now()),
      ),
    );
  }

  /** After a restore: no invocation is in flight any more (it is made again). */
  rearm(service: ServiceRecord): void {
    for (const deployment of service.deployments) if (deployment.progressive) deployment.progressive.hookInFlight = false;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/** The hooks registered for `stage`, in the order the service lists them. */
export const hooksAt = (hooks: readonly LifecycleHookConfig[], stage: LifecycleStage): LifecycleHookConfig[] =>
  hooks.filter((h) => h.lifecycleStages.includes(stage));

const isServing = (task: TaskRecord): boolean =>
  task.lastStatus === 'RUNNING' && task.target === 'healthy' && (task.health === undefined || task.health === 'HEALTHY');

/** Green's production weight after each step: BLUE_GREEN 100; CANARY canaryPercent, 100; LINEAR stepPercent, 2×, … 100. */
function trafficSteps(service: ServiceRecord): number[] {
  const config = service.deploymentConfiguration;
  if (config.strategy === 'CANARY') {
    const percent = config.canaryConfiguration?.canaryPercent ?? CANARY_DEFAULTS.canaryPercent;
    return percent >= 100 ? [100] : [percent, 100];
  }
  if (config.strategy === 'LINEAR') {
    const step = config.linearConfiguration?.stepPercent ?? LINEAR_DEFAULTS.stepPercent;
    const steps: number[] = [];
    for (let i = 1; Math.round(i * step * 10) / 10 < 100; i += 1) steps.push(Math.round(i * step * 10) / 10);
    return [...steps, 100];
  }
  return [100];
}

function stepBakeMinutes(service: ServiceRecord): number {
  const config = service.deploymentConfiguration;
  if (config.strategy === 'CANARY') return config.canaryConfiguration?.canaryBakeTimeInMinutes ?? CANARY_DEFAULTS.canaryBakeTimeInMinutes;
  if (config.strategy === 'LINEAR') return config.linearConfiguration?.stepBakeTimeInMinutes ?? LINEAR_DEFAULTS.stepBakeTimeInMinutes;
  return 0;
}
