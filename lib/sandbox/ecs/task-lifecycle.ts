/**
 * The task lifecycle: a task goes PROVISIONING → PENDING → RUNNING, registers
 * with its service's target group and turns healthy after interval × healthy
 * threshold; a crashing image stops it instead; stopping a serving task drains
 * it for the deregistration delay first. Also ListTasks and DescribeTasks.
 *
 * Which tasks to start and stop is the rolling controller's decision; what a
 * transition means for a deployment (circuit breaker) is the service
 * deployments'. They hear of it through TaskEvents.
 */
import { SimulatedAwsError } from '../aws-error';
import { crashesOnStart, extraStartMs, type ImageCatalogue } from '../simulated-workloads';
import {
  type DeploymentRecord,
  ECS_TIMINGS,
  type EcsContext,
  type ServiceRecord,
  STOPPED_TASK_RETENTION_MS,
  type TaskDefinitionRecord,
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
  /** An essential container exited while the task started. */
  readonly failedToStart: (service: ServiceRecord, deployment: DeploymentRecord) => void;
  /** The task began serving: healthy in its target group, or running when the service has no load balancer. */
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
      target: 'unused',
    };
  }

  /** The scheduler stops `tasks`: serving ones deregister and drain first. */
  stopTasks(service: ServiceRecord, tasks: readonly TaskRecord[], reason: string): void {
    const lb = service.loadBalancers[0];
    for (const task of tasks) {
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
    if (lb && draining.length > 0) {
      this.state.addServiceEvent(service, `(service ${service.serviceName}) deregistered ${draining.length} targets in (target-group ${lb.targetGroupArn})`);
      this.state.addServiceEvent(service, `(service ${service.serviceName}) has begun draining connections on ${draining.length} tasks.`);
    }
    this.state.addServiceEvent(service, `(service ${service.serviceName}) has stopped ${tasks.length} running tasks: ${tasks.map((t) => `(task ${taskId(t)})`).join(' ')}.`);
  }

  /** Runs a task's scheduled transition. */
  private advance(task: TaskRecord): void {
    const step = task.next;
    const service = this.state.services.get(task.serviceArn);
    if (!step || !service) return;
    delete task.next;
    const now = Date.now();
    const lb = service.loadBalancers[0];
    const deployment = service.deployments.find((d) => d.id === task.deploymentId);
    switch (step.action) {
      case 'pending':
        task.lastStatus = 'PENDING';
        task.next = crashesOnStart(this.images.behaviourOf(task.image))
          ? { at: now + ECS_TIMINGS.crashAfterStartMs, action: 'crash' }
          : {
              at: now + ECS_TIMINGS.pendingMs + Math.floor(this.context.random.next() * ECS_TIMINGS.pendingJitterMs) + extraStartMs(this.images.behaviourOf(task.image)),
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
        if (deployment) this.events.failedToStart(service, deployment);
        break;
      case 'running':
        task.lastStatus = 'RUNNING';
        task.startedAt = now;
        for (const listener of this.taskRunningListeners) listener(task);
        if (lb) {
          task.target = 'initial';
          // The load balancer checks on its own schedule: the first check falls anywhere in the interval,
          // and the target turns healthy after healthyThresholdCount consecutive passes.
          const firstCheckMs = Math.floor(this.context.random.next() * lb.intervalSeconds * 1000);
          task.next = { at: now + firstCheckMs + (lb.healthyThresholdCount - 1) * lb.intervalSeconds * 1000, action: 'healthy' };
          this.state.addServiceEvent(service, `(service ${service.serviceName}) registered 1 targets in (target-group ${lb.targetGroupArn})`);
        } else {
          task.servingSince = now;
          if (deployment) this.events.serving(deployment);
        }
        break;
      case 'healthy':
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

  private arm(task: TaskRecord): void {
    const step = task.next;
    if (!step) return;
    clearTimeout(this.timers.get(task.taskArn));
    this.timers.set(
      task.taskArn,
      setTimeout(() => {
        this.timers.delete(task.taskArn);
        this.advance(task);
      }, Math.max(0, step.at - Date.now())),
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
        healthStatus: 'UNKNOWN',
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
          lastStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : task.lastStatus === 'RUNNING' ? 'RUNNING' : 'PENDING',
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
