/**
 * The rolling-update deployment controller: for each service it starts the
 * primary deployment's tasks within maximumPercent, stops older deployments'
 * tasks while minimumHealthyPercent of the desired count keeps serving, and
 * completes the rollout at steady state (after a bake time when deployment
 * alarms are monitored).
 *
 * Its decisions keep nothing of their own: each run reads the records afresh,
 * so it can run after any change (an API call, a task transition, a timer).
 */
import { type ServiceRecord, type TaskRecord, taskId } from './records';
import type { ServiceDeployments } from './service-deployments';
import type { EcsState } from './state';
import type { TaskDefinitions } from './task-definitions';
import type { TaskLifecycle } from './task-lifecycle';

export class RollingController {
  /** Scheduled runs by service and time (a bake ending, a relaunch backoff ending). */
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly state: EcsState,
    private readonly definitions: TaskDefinitions,
    private readonly lifecycle: TaskLifecycle,
    private readonly deployments: ServiceDeployments,
  ) {}

  /** Takes the service's next step towards its primary deployment at steady state. */
  reconcile(service: ServiceRecord): void {
    if (service.status !== 'ACTIVE') return;
    const now = Date.now();
    const primary = this.state.primary(service);
    const live = (): TaskRecord[] => this.state.serviceTasks(service).filter((t) => t.desiredStatus === 'RUNNING');
    const config = service.deploymentConfiguration;

    // 1. Start tasks for the primary deployment, within maximumPercent. A FAILED deployment launches nothing.
    if (primary.rolloutState !== 'FAILED') {
      const primaryLive = live().filter((t) => t.deploymentId === primary.id);
      const maxTotal = Math.floor((service.desiredCount * config.maximumPercent) / 100);
      const launch = Math.min(primary.desiredCount - primaryLive.length, Math.max(0, maxTotal - live().length));
      if (launch > 0 && service.relaunchNotBefore > now) {
        this.armReconcile(service, service.relaunchNotBefore);
      } else if (launch > 0) {
        const definition = this.definitions.byArn(primary.taskDefinition);
        if (definition) {
          const started = Array.from({ length: launch }, () => this.lifecycle.startTask(service, primary, definition));
          this.state.addServiceEvent(
            service,
            `(service ${service.serviceName}) has started ${started.length} tasks: ${started.map((t) => `(task ${taskId(t)})`).join(' ')}.`,
          );
        }
      }
      // Scale in: the primary runs more tasks than it should.
      const extra = live().filter((t) => t.deploymentId === primary.id).length - primary.desiredCount;
      if (extra > 0) {
        const victims = live()
          .filter((t) => t.deploymentId === primary.id)
          .sort((a, b) => b.createdAt - a.createdAt)
          .slice(0, extra);
        this.lifecycle.stopTasks(service, victims, `Scaling activity initiated by (deployment ${primary.id})`);
      }
    }

    // 2. Stop older deployments' tasks while enough tasks keep serving.
    const minHealthy = Math.ceil((service.desiredCount * config.minimumHealthyPercent) / 100);
    let serving = live().filter((t) => this.isServing(t)).length;
    const older = service.deployments.filter((d) => d.status === 'ACTIVE').sort((a, b) => a.createdAt - b.createdAt);
    const toStop: TaskRecord[] = [];
    for (const deployment of older) {
      for (const task of live().filter((t) => t.deploymentId === deployment.id)) {
        if (!this.isServing(task)) toStop.push(task);
        else if (serving - 1 >= minHealthy) {
          toStop.push(task);
          serving -= 1;
        }
      }
    }
    if (toStop.length > 0) this.lifecycle.stopTasks(service, toStop, `Scaling activity initiated by (deployment ${primary.id})`);

    // 3. Steady state: the primary serves its desired count and nothing else remains.
    if (primary.rolloutState === 'IN_PROGRESS') {
      const primaryLive = live().filter((t) => t.deploymentId === primary.id);
      const ready = primaryLive.length === primary.desiredCount && primaryLive.every((t) => this.isServing(t));
      const othersGone = this.state.serviceTasks(service).every((t) => t.deploymentId === primary.id || t.lastStatus === 'STOPPED');
      if (ready && othersGone) {
        const bake = this.deployments.bakeMs(primary);
        if (bake > 0 && primary.bakeEndsAt === undefined) {
          primary.bakeEndsAt = now + bake;
          this.armReconcile(service, primary.bakeEndsAt);
        } else if (bake === 0 || (primary.bakeEndsAt !== undefined && now >= primary.bakeEndsAt)) {
          this.deployments.complete(service, primary);
        }
      }
    }
  }

  private isServing(task: TaskRecord): boolean {
    // A task whose containers declare health checks counts only once HEALTHY (minimumHealthyPercent, API reference).
    return task.lastStatus === 'RUNNING' && (task.target === 'healthy' || task.target === 'unused') && (task.health === undefined || task.health === 'HEALTHY');
  }

  /** Runs reconcile(service) at `at`, once however often it is asked for. */
  armReconcile(service: ServiceRecord, at: number): void {
    const key = `reconcile:${service.serviceArn}:${at}`;
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(
        () => {
          this.timers.delete(key);
          this.reconcile(service);
        },
        Math.max(0, at - Date.now()),
      ),
    );
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
