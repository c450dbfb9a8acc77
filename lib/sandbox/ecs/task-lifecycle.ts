/**
 * The task lifecycle: a task goes PROVISIONING → PENDING → RUNNING, registers
 * with its service's target group and turns healthy after interval × healthy
 * threshold; a crashing image stops it instead; stopping a serving task drains
 * it for the deregistration delay first. Also ListTasks and DescribeTasks.
 *
 * Health checks: the target group's (healthy or unhealthy after its thresholds)
 * and the essential containers' own `healthCheck` (HEALTHY after one interval,
 * UNHEALTHY after `retries` failures past the start period). Once the service's
 * health-check grace period has passed, ECS stops a task that failed either and
 * replaces it: a circuit-breaker failure of stage 2.
 *
 * Which tasks to start and stop is the rolling controller's decision; what a
 * transition means for a deployment (circuit breaker) is the service
 * deployments'. They hear of it through TaskEvents.
 */
import { createHash } from 'node:crypto';
import { SimulatedAwsError } from '../aws-error';
import { answerHttp, containerHealthCommandPasses, crashesOnStart, extraStartMs, type ImageCatalogue } from '../simulated-workloads';
import {
  type ContainerHealthCheck,
  type DeploymentRecord,
  ECS_TIMINGS,
  type EcsContext,
  type ServiceRecord,
  STOPPED_TASK_RETENTION_MS,
  type TaskDefinitionRecord,
  type TargetGroupConfig,
  type TaskRecord,
  taskId,
} from './records';
import type { EcsState } from './state';
import type { TaskDefinitions } from './task-definitions';

/**
 * What a task's transitions tell the rest of ECS. Callbacks wired by SimulatedEcs:
 * the modules that act on them also start and stop tasks, so importing them here would be circular.
 */
export interface TaskEvents {
  /**
   * The task failed: an essential container exited while it started (stage 1), or it ran and ECS replaced it for
   * failing its health checks (stage 2).
   */
  readonly failed: (service: ServiceRecord, deployment: DeploymentRecord) => void;
  /** The task began serving: running and past every health check it has (target group, container). */
  readonly serving: (deployment: DeploymentRecord) => void;
  /** After every transition, so the service's controller takes its next step. */
  readonly transitioned: (service: ServiceRecord) => void;
}

export class TaskLifecycle {
  private readonly context: EcsContext;
  /** Pending transitions by task ARN. */
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly taskRunningListeners: ((task: TaskRecord) => void)[] = [];

  constructor(
    private readonly state: EcsState,
    private readonly definitions: TaskDefinitions,
    private readonly images: ImageCatalogue,
    private readonly events: TaskEvents,
  ) {
    this.context = state.context;
  }

  /** Observes tasks reaching RUNNING (the application in them starts, and reads its secrets). */
  onTaskRunning(listener: (task: TaskRecord) => void): void {
    this.taskRunningListeners.push(listener);
  }

  /** True while any task is between states. */
  hasPendingTransitions(): boolean {
    for (const task of this.state.tasks.values()) if (task.next) return true;
    return false;
  }

  taskByIp(ip: string): TaskRecord | undefined {
    return [...this.state.tasks.values()].find((t) => t.privateIp === ip && t.lastStatus !== 'STOPPED');
  }

  /** A seeded service's tasks: already RUNNING and serving since `now`. */
  seedServing(service: ServiceRecord, deployment: DeploymentRecord, definition: TaskDefinitionRecord, count: number, now: number): void {
    for (let i = 0; i < count; i += 1) {
      const task = this.newTask(service, deployment, definition);
      task.lastStatus = 'RUNNING';
      task.startedAt = now;
      task.target = service.loadBalancers.length > 0 ? 'healthy' : 'unused';
      if (this.containerHealthChecks(task).length > 0) task.health = 'HEALTHY';
      task.servingSince = now;
      this.state.tasks.set(task.taskArn, task);
      for (const listener of this.taskRunningListeners) listener(task);
    }
  }

  /** Re-arms every pending transition (after a restore). */
  rearm(): void {
    for (const task of this.state.tasks.values()) if (task.next) this.arm(task);
  }

  /** A new task of `deployment`, PROVISIONING; starting one turns on the deployment's alarm monitoring. */
  startTask(service: ServiceRecord, deployment: DeploymentRecord, definition: TaskDefinitionRecord): TaskRecord {
    const task = this.newTask(service, deployment, definition);
    task.next = { at: Date.now() + ECS_TIMINGS.provisioningMs, action: 'pending' };
    this.state.tasks.set(task.taskArn, task);
    this.arm(task);
    if (deployment.alarms.enable && !deployment.alarms.ignored) deployment.alarms.monitoring = true;
    return task;
  }

  private newTask(service: ServiceRecord, deployment: DeploymentRecord, definition: TaskDefinitionRecord): TaskRecord {
    const cluster = service.clusterArn.split('/').pop() ?? '';
    this.state.ipCounter += 1;
    const essential = definition.containerDefinitions.find((c) => c.essential !== false) ?? definition.containerDefinitions[0];
    return {
      taskArn: `arn:aws:ecs:${this.context.region}:${this.context.account}:task/${cluster}/${this.context.random.hex(32)}`,
      clusterArn: service.clusterArn,
      serviceArn: service.serviceArn,
      deploymentId: deployment.id,
      taskDefinitionArn: definition.taskDefinitionArn,
      group: `service:${service.serviceName}`,
      startedBy: deployment.id,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: Date.now(),
      privateIp: `10.0.${Math.floor(this.state.ipCounter / 250)}.${(this.state.ipCounter % 250) + 2}`,
      image: essential?.image ?? '',
      ...(deployment.targetGroupArn === undefined ? {} : { targetGroupArn: deployment.targetGroupArn }),
      target: 'unused',
    };
  }

  /** The target group a task registers in: its deployment's (blue/green), else the service's first, with that group's settings. */
  private targetGroupOf(service: ServiceRecord, task: TaskRecord): TargetGroupConfig | undefined {
    const lb = service.loadBalancers[0];
    if (!lb || task.targetGroupArn === undefined || task.targetGroupArn === lb.targetGroupArn) return lb;
    return { ...lb, targetGroupArn: task.targetGroupArn };
  }

  /** The targets registered in a target group (DescribeTargetHealth): serving, checking, unhealthy or draining tasks. */
  targetsIn(targetGroupArn: string): { id: string; port: number; state: 'initial' | 'healthy' | 'unhealthy' | 'draining' }[] {
    const targets: { id: string; port: number; state: 'initial' | 'healthy' | 'unhealthy' | 'draining' }[] = [];
    for (const task of this.state.tasks.values()) {
      if (task.target === 'unused') continue;
      const service = this.state.services.get(task.serviceArn);
      const lb = service ? this.targetGroupOf(service, task) : undefined;
      if (lb?.targetGroupArn === targetGroupArn) targets.push({ id: task.privateIp, port: lb.containerPort, state: task.target });
    }
    return targets;
  }

  /** The scheduler stops `tasks`: serving ones deregister and drain first. */
  stopTasks(service: ServiceRecord, tasks: readonly TaskRecord[], reason: string): void {
    for (const task of tasks) {
      const lb = this.targetGroupOf(service, task);
      task.desiredStatus = 'STOPPED';
      task.stopCode = 'ServiceSchedulerInitiated';
      task.stoppedReason = reason;
      task.stoppingAt = Date.now();
      if (lb && task.target === 'healthy') {
        // Deregister and drain first.
        task.target = 'draining';
        task.lastStatus = 'DEACTIVATING';
        task.next = { at: Date.now() + lb.deregistrationDelaySeconds * 1000, action: 'stop' };
      } else {
        task.lastStatus = 'STOPPING';
        task.next = { at: Date.now() + ECS_TIMINGS.stoppingMs, action: 'stopped' };
      }
      this.arm(task);
    }
    const draining = tasks.filter((t) => t.target === 'draining');
    const groups = [...new Set(draining.map((t) => this.targetGroupOf(service, t)?.targetGroupArn))].filter((arn): arn is string => arn !== undefined);
    for (const group of groups) {
      const count = draining.filter((t) => this.targetGroupOf(service, t)?.targetGroupArn === group).length;
      this.state.addServiceEvent(service, `(service ${service.serviceName}) deregistered ${count} targets in (target-group ${group})`);
    }
    if (groups.length > 0) this.state.addServiceEvent(service, `(service ${service.serviceName}) has begun draining connections on ${draining.length} tasks.`);
    this.state.addServiceEvent(
      service,
      `(service ${service.serviceName}) has stopped ${tasks.length} running tasks: ${tasks.map((t) => `(task ${taskId(t)})`).join(' ')}.`,
    );
  }

  /** Runs a task's scheduled transition. */
  private advance(task: TaskRecord): void {
    const step = task.next;
    const service = this.state.services.get(task.serviceArn);
    if (!step || !service) return;
    delete task.next;
    const now = Date.now();
    const lb = this.targetGroupOf(service, task);
    const deployment = service.deployments.find((d) => d.id === task.deploymentId);
    switch (step.action) {
      case 'pending':
        task.lastStatus = 'PENDING';
        task.next = crashesOnStart(this.images.behaviourOf(task.image))
          ? { at: now + ECS_TIMINGS.crashAfterStartMs, action: 'crash' }
          : {
              at:
                now +
                ECS_TIMINGS.pendingMs +
                Math.floor(this.context.random.next() * ECS_TIMINGS.pendingJitterMs) +
                extraStartMs(this.images.behaviourOf(task.image)),
              action: 'running',
            };
        break;
      case 'crash':
        task.lastStatus = 'STOPPED';
        task.desiredStatus = 'STOPPED';
        task.stoppedAt = now;
        task.stopCode = 'EssentialContainerExited';
        task.stoppedReason = 'Essential container in task exited';
        task.exitCode = 1;
        this.state.addServiceEvent(service, `(service ${service.serviceName}) has stopped 1 running tasks: (task ${taskId(task)}).`);
        if (deployment) this.events.failed(service, deployment);
        break;
      case 'running':
        task.lastStatus = 'RUNNING';
        task.startedAt = now;
        for (const listener of this.taskRunningListeners) listener(task);
        this.scheduleChecks(service, task, lb, now);
        if (!task.next) {
          task.servingSince = now;
          if (deployment) this.events.serving(deployment);
        }
        break;
      case 'check':
        this.evaluateChecks(service, task, deployment, lb, now);
        break;
      case 'healthy':
        // A target turning healthy, as snapshots taken before container health checks scheduled it.
        task.target = 'healthy';
        task.servingSince = now;
        if (deployment) this.events.serving(deployment);
        break;
      case 'stop':
        task.lastStatus = 'STOPPING';
        task.target = 'unused';
        task.next = { at: now + ECS_TIMINGS.stoppingMs, action: 'stopped' };
        break;
      case 'stopped':
        task.lastStatus = 'STOPPED';
        task.target = 'unused';
        task.stoppedAt = now;
        break;
    }
    if (task.next) this.arm(task);
    this.events.transitioned(service);
  }

  /**
   * At RUNNING, when each of the task's health checks will reach its verdict (the image's behaviour decides which);
   * the first verdict is the task's next transition. No checks: no transition, the task serves at once.
   */
  private scheduleChecks(service: ServiceRecord, task: TaskRecord, lb: TargetGroupConfig | undefined, now: number): void {
    const behaviour = this.images.behaviourOf(task.image);
    const checks: NonNullable<TaskRecord['checks']> = {};
    if (lb) {
      task.target = 'initial';
      // The load balancer checks on its own schedule: the first check falls anywhere in the interval, and the
      // target turns healthy (unhealthy) after healthyThresholdCount (unhealthyThresholdCount) consecutive results.
      const firstCheckMs = Math.floor(this.context.random.next() * lb.intervalSeconds * 1000);
      checks.targetPasses = targetCheckPasses(lb, behaviour);
      const count = checks.targetPasses ? lb.healthyThresholdCount : (lb.unhealthyThresholdCount ?? 2);
      checks.targetAt = now + firstCheckMs + (count - 1) * lb.intervalSeconds * 1000;
      this.state.addServiceEvent(service, `(service ${service.serviceName}) registered 1 targets in (target-group ${lb.targetGroupArn})`);
    }
    const containerChecks = this.containerHealthChecks(task);
    if (containerChecks.length > 0) {
      task.health = 'UNKNOWN';
      const verdicts = containerChecks.map((check) => containerVerdict(check, containerHealthCommandPasses(behaviour, check.command), now));
      const failing = verdicts.filter((v) => !v.passes);
      // The task is HEALTHY when every essential container is, UNHEALTHY as soon as one is.
      checks.containerPasses = failing.length === 0;
      checks.containerAt = checks.containerPasses ? Math.max(...verdicts.map((v) => v.at)) : Math.min(...failing.map((v) => v.at));
    }
    task.checks = checks;
    const first = Math.min(checks.targetAt ?? Infinity, checks.containerAt ?? Infinity);
    if (first !== Infinity) task.next = { at: first, action: 'check' };
  }

  /** The essential containers' declared health checks (a `NONE` command declares none). */
  private containerHealthChecks(task: TaskRecord): ContainerHealthCheck[] {
    const definition = this.definitions.byArn(task.taskDefinitionArn);
    return (definition?.containerDefinitions ?? [])
      .filter((c) => c.essential !== false)
      .flatMap((c) => (c.healthCheck && c.healthCheck.command[0] !== 'NONE' ? [c.healthCheck] : []));
  }

  /** Applies the verdicts due by now; a failed task is replaced once the grace period is over, a passing one serves. */
  private evaluateChecks(
    service: ServiceRecord,
    task: TaskRecord,
    deployment: DeploymentRecord | undefined,
    lb: TargetGroupConfig | undefined,
    now: number,
  ): void {
    const checks = task.checks ?? {};
    if (checks.targetAt !== undefined && checks.targetAt <= now && task.target === 'initial') {
      task.target = checks.targetPasses ? 'healthy' : 'unhealthy';
      if (lb && !checks.targetPasses) {
        const status = answerHttp(this.images.behaviourOf(task.image), lb.healthCheckPath ?? '/').status;
        this.state.addServiceEvent(
          service,
          `(service ${service.serviceName}) (task ${taskId(task)}) (port ${lb.containerPort}) is unhealthy in (target-group ${lb.targetGroupArn}) due to (reason Health checks failed with these codes: [${status}]).`,
        );
      }
    }
    if (checks.containerAt !== undefined && checks.containerAt <= now && task.health === 'UNKNOWN')
      task.health = checks.containerPasses ? 'HEALTHY' : 'UNHEALTHY';
    if (task.target === 'unhealthy' || task.health === 'UNHEALTHY') {
      // ECS ignores failed health checks for healthCheckGracePeriodSeconds after the task started.
      const graceEnds = (task.startedAt ?? now) + service.healthCheckGracePeriodSeconds * 1000;
      if (now < graceEnds) {
        task.next = { at: graceEnds, action: 'check' };
        return;
      }
      const reason =
        task.target === 'unhealthy' && lb ? `Task failed ELB health checks in (target-group ${lb.targetGroupArn})` : 'Task failed container health checks';
      this.stopTasks(service, [task], reason);
      if (deployment) this.events.failed(service, deployment);
      return;
    }
    const pending = [task.target === 'initial' ? checks.targetAt : undefined, task.health === 'UNKNOWN' ? checks.containerAt : undefined].filter(
      (at): at is number => at !== undefined,
    );
    if (pending.length > 0) {
      task.next = { at: Math.max(now, Math.min(...pending)), action: 'check' };
      return;
    }
    task.servingSince = now;
    if (deployment) this.events.serving(deployment);
  }

  private arm(task: TaskRecord): void {
    const step = task.next;
    if (!step) return;
    clearTimeout(this.timers.get(task.taskArn));
    this.timers.set(
      task.taskArn,
      setTimeout(
        () => {
          this.timers.delete(task.taskArn);
          this.advance(task);
        },
        Math.max(0, step.at - Date.now()),
      ),
    );
  }

  listTasks(input: Record<string, unknown>): object {
    const cluster = this.state.requireCluster(input.cluster);
    const desiredStatus = (input.desiredStatus as string | undefined) ?? 'RUNNING';
    let service: ServiceRecord | undefined;
    if (input.serviceName !== undefined) {
      service = this.state.findService(cluster, input.serviceName);
      if (!service) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    }
    const retainedSince = Date.now() - STOPPED_TASK_RETENTION_MS;
    const arns = [...this.state.tasks.values()]
      .filter(
        (t) =>
          t.clusterArn === this.state.clusterArn(cluster) &&
          (!service || t.serviceArn === service.serviceArn) &&
          t.desiredStatus === desiredStatus &&
          (input.startedBy === undefined || t.startedBy === input.startedBy) &&
          (t.lastStatus !== 'STOPPED' || (t.stoppedAt ?? 0) >= retainedSince),
      )
      .map((t) => t.taskArn);
    return { taskArns: arns };
  }

  describeTasks(input: Record<string, unknown>): object {
    const cluster = this.state.requireCluster(input.cluster);
    const requested = (input.tasks ?? []) as string[];
    if (requested.length === 0 || requested.length > 100) throw new SimulatedAwsError('InvalidParameterException', 'tasks must contain between 1 and 100 ids.');
    const tasks: object[] = [];
    const failures: object[] = [];
    for (const reference of requested) {
      const id = reference.split('/').pop() ?? reference;
      const task = [...this.state.tasks.values()].find((t) => t.taskArn.endsWith(`/${id}`) && t.clusterArn === this.state.clusterArn(cluster));
      if (!task) {
        failures.push({ arn: reference, reason: 'MISSING' });
        continue;
      }
      const definition = this.definitions.byArn(task.taskDefinitionArn);
      tasks.push({
        taskArn: task.taskArn,
        clusterArn: task.clusterArn,
        taskDefinitionArn: task.taskDefinitionArn,
        group: task.group,
        startedBy: task.startedBy,
        lastStatus: task.lastStatus,
        desiredStatus: task.desiredStatus,
        healthStatus: task.health ?? 'UNKNOWN',
        launchType: 'FARGATE',
        createdAt: new Date(task.createdAt),
        ...(task.startedAt ? { startedAt: new Date(task.startedAt) } : {}),
        ...(task.stoppingAt ? { stoppingAt: new Date(task.stoppingAt) } : {}),
        ...(task.stoppedAt ? { stoppedAt: new Date(task.stoppedAt) } : {}),
        ...(task.stopCode ? { stopCode: task.stopCode, stoppedReason: task.stoppedReason } : {}),
        attachments: [
          {
            id: `eni-attach-${task.taskArn.slice(-8)}`,
            type: 'ElasticNetworkInterface',
            status: task.lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
            details: [{ name: 'privateIPv4Address', value: task.privateIp }],
          },
        ],
        containers: (definition?.containerDefinitions ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          imageDigest: imageDigest(c.image),
          lastStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : task.lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING',
          healthStatus: c.healthCheck && c.essential !== false ? (task.health ?? 'UNKNOWN') : 'UNKNOWN',
          ...(task.exitCode !== undefined && c.image === task.image ? { exitCode: task.exitCode, reason: 'Error' } : {}),
          networkInterfaces: [{ privateIpv4Address: task.privateIp }],
        })),
      });
    }
    return { tasks, failures };
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * The digest a container runs: the one its image reference names (`repo@sha256:…`), or, for a tag, a
 * deterministic stand-in for the digest the tag resolved to.
 */
export function imageDigest(image: string): string {
  const named = /@(sha256:[0-9a-f]{64})$/.exec(image);
  return named?.[1] ?? `sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** Whether the target group's health check passes: the application's liveness without a path, else its answer (200, ALB's default matcher). */
const targetCheckPasses = (lb: TargetGroupConfig, behaviour: Parameters<typeof answerHttp>[0]): boolean =>
  lb.healthCheckPath === undefined || answerHttp(behaviour, lb.healthCheckPath).status === 200;

/**
 * When a container health check reaches its verdict (ECS defaults: interval 30 s, retries 3, start period 0):
 * HEALTHY at the first check, one interval in; UNHEALTHY after `retries` consecutive failures, failures within
 * the start period not counting.
 */
function containerVerdict(check: ContainerHealthCheck, passes: boolean, now: number): { passes: boolean; at: number } {
  const intervalMs = (check.interval ?? 30) * 1000;
  if (passes) return { passes, at: now + intervalMs };
  const firstCounted = Math.max(1, Math.ceil(((check.startPeriod ?? 0) * 1000) / intervalMs));
  return { passes, at: now + (firstCounted + (check.retries ?? 3) - 1) * intervalMs };
}
