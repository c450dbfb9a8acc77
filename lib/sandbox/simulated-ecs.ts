/**
 * Amazon ECS (Fargate, rolling-update deployment controller).
 *
 * - Tasks go PROVISIONING → PENDING → RUNNING, register with their service's
 *   target group and turn healthy after interval × healthy-threshold; stopping a
 *   serving task drains it for the deregistration delay first.
 * - A rolling deployment starts new tasks within maximumPercent, stops old ones
 *   while minimumHealthyPercent of the desired count keeps serving, and
 *   completes (SERVICE_DEPLOYMENT_COMPLETED) at steady state, after a bake time
 *   when deployment alarms are monitored.
 * - Health checks: the target group's (a path the image fails turns the target
 *   unhealthy) and the essential containers' healthCheck. Past the service's
 *   grace period ECS stops a task that failed either, and replaces it.
 * - The circuit breaker counts consecutive task failures, both tasks that never
 *   reach RUNNING (stage 1) and tasks replaced for failed health checks
 *   (stage 2), against ceil(50% × the latest desired count), clamped to
 *   [3, 200] (or the thresholdConfiguration); a task turning healthy resets the
 *   count. On failure, with rollback on, ECS re-promotes the most recent
 *   COMPLETED deployment (same id, IN_PROGRESS again); with none it stalls.
 * - DeleteService drains a service (DRAINING) until its tasks stop (INACTIVE);
 *   UpdateService then fails with ServiceNotActiveException.
 * - Deployment alarms: monitored once a new task runs, through the bake time; an
 *   alarm already in ALARM when the deployment starts turns monitoring off.
 *
 * - Blue/green, canary and linear deployments (deploymentConfiguration.strategy) run their lifecycle stages
 *   with a second target group and weighted listener rules, invoking lifecycle hook functions (see
 *   ./ecs/progressive-controller.ts); rolling deployments are untouched by them.
 *
 * Every future transition is stored on the record it changes (`next`), so the
 * state is plain data that can be saved and re-armed.
 *
 * SimulatedEcs is the API and snapshot face of the parts in ./ecs/: the task
 * definitions, the services, their service deployments (history, outcomes,
 * circuit breaker, deployment alarms), the task lifecycle and the rolling
 * controller, all over one shared EcsState.
 */
import { SimulatedAwsError } from './aws-error';
import type { SimulatedService } from './sdk-transport';
import type { ImageCatalogue } from './simulated-workloads';
import {
  type EcsContext,
  type EcsEventEmitter,
  type EcsSnapshot,
  type ServiceRecord,
  STOPPED_TASK_RETENTION_MS,
  type TaskDefinitionRecord,
  type TaskRecord,
} from './ecs/records';
import type { EcsLoadBalancing, HookInvoker } from './ecs/load-balancing';
import { ProgressiveController } from './ecs/progressive-controller';
import { RollingController } from './ecs/rolling-controller';
import { type AlarmInfo, ServiceDeployments } from './ecs/service-deployments';
import { type SeedServiceOptions, Services } from './ecs/services';
import { EcsState } from './ecs/state';
import { TaskDefinitions } from './ecs/task-definitions';
import { imageDigest, TaskLifecycle } from './ecs/task-lifecycle';
import { type ListenerRules, type RevisionTraffic, serviceTraffic } from './ecs/traffic';

export { ECS_TIMINGS, LIFECYCLE_STAGES } from './ecs/records';
export type { EcsLoadBalancing, HookInvoker, LifecycleHookPayload, WeightedTargetGroup } from './ecs/load-balancing';
export type { ListenerRules, RevisionTraffic, ServiceTraffic } from './ecs/traffic';
export type {
  AdvancedConfiguration,
  LifecycleHookConfig,
  LifecycleStage,
  ContainerDefinition,
  DeploymentRecord,
  EcsEventEmitter,
  EcsSnapshot,
  ServiceDeploymentRecord,
  ServiceRecord,
  ServiceRevisionRecord,
  TargetGroupConfig,
  TaskDefinitionFields,
  TaskDefinitionRecord,
  TaskLastStatus,
  TaskRecord,
} from './ecs/records';
export { circuitBreakerThreshold } from './ecs/service-deployments';
export { imageDigest } from './ecs/task-lifecycle';

/** What ECS reaches besides itself: the load balancers it shifts traffic on, and Lambda for lifecycle hooks. */
export interface EcsIntegrations {
  readonly elb?: EcsLoadBalancing;
  readonly invokeHook?: HookInvoker;
}

export class SimulatedEcs implements SimulatedService {
  private readonly state: EcsState;
  private readonly definitions: TaskDefinitions;
  private readonly deployments: ServiceDeployments;
  private readonly services: Services;
  private readonly lifecycle: TaskLifecycle;
  private readonly controller: RollingController;
  private readonly progressive: ProgressiveController;
  private readonly elb: EcsLoadBalancing | undefined;
  /** The next step of a service: the rolling controller's, or a deleted service's drain. */
  private readonly reconcile: (service: ServiceRecord) => void;

  constructor(context: EcsContext, images: ImageCatalogue, emit: EcsEventEmitter, alarmInfo: AlarmInfo, integrations: EcsIntegrations = {}) {
    this.state = new EcsState(context, emit);
    this.elb = integrations.elb;
    this.definitions = new TaskDefinitions(context);
    // The parts call each other both ways (a task transition runs the controller, which starts tasks):
    // these callbacks reach the controller and the deployments when they run, after construction.
    // A deleted (DRAINING) service has nothing to reconcile: it only waits for its tasks to stop.
    // A blue/green, canary or linear deployment (or its rollback) is the progressive controller's until it completes.
    const reconcile = (service: ServiceRecord): void => {
      if (service.status === 'DRAINING') this.services.drained(service);
      else if (service.status === 'ACTIVE' && this.state.primary(service).progressive) this.progressive.reconcile(service);
      else this.controller.reconcile(service);
    };
    this.reconcile = reconcile;
    this.deployments = new ServiceDeployments(this.state, alarmInfo, reconcile);
    this.services = new Services(this.state, this.definitions, this.deployments, reconcile, {
      ...(integrations.elb ? { elb: integrations.elb } : {}),
      begin: (service, deployment) => this.progressive.begin(service, deployment),
      abandon: (service) => this.progressive.abandon(service),
    });
    this.lifecycle = new TaskLifecycle(this.state, this.definitions, images, {
      failed: (service, deployment) => this.deployments.countFailure(service, deployment),
      serving: (deployment) => this.deployments.countHealthy(deployment),
      transitioned: reconcile,
    });
    this.controller = new RollingController(this.state, this.definitions, this.lifecycle, this.deployments);
    this.progressive = new ProgressiveController({
      state: this.state,
      definitions: this.definitions,
      lifecycle: this.lifecycle,
      deployments: this.deployments,
      ...(integrations.elb ? { elb: integrations.elb } : {}),
      ...(integrations.invokeHook ? { invokeHook: integrations.invokeHook } : {}),
      reconcile,
    });
    this.deployments.progressiveRollback = (service, failed, target) => this.progressive.rolledBack(service, failed, target);
  }

  // ---------------------------------------------------------------- state

  snapshot(): EcsSnapshot {
    return structuredClone({
      clusters: [...this.state.clusters],
      taskDefinitions: this.definitions.all(),
      services: [...this.state.services.values()],
      tasks: [...this.state.tasks.values()].filter((t) => t.lastStatus !== 'STOPPED' || (t.stoppedAt ?? 0) > Date.now() - STOPPED_TASK_RETENTION_MS),
      ipCounter: this.state.ipCounter,
      ...(this.elb ? { loadBalancing: this.elb.snapshot() } : {}),
    });
  }

  restore(snapshot: EcsSnapshot): void {
    const copy = structuredClone(snapshot);
    copy.clusters.forEach((c) => this.state.clusters.add(c));
    this.definitions.restore(copy.taskDefinitions);
    copy.services.forEach((s) => this.state.services.set(s.serviceArn, s));
    copy.tasks.forEach((t) => this.state.tasks.set(t.taskArn, t));
    this.state.ipCounter = copy.ipCounter;
    if (copy.loadBalancing !== undefined) this.elb?.restore(copy.loadBalancing);
    // Re-arm every pending transition.
    this.lifecycle.rearm();
    for (const service of this.state.services.values()) {
      const primary = this.state.primary(service);
      if (primary.bakeEndsAt) this.controller.armReconcile(service, primary.bakeEndsAt);
      if (service.relaunchNotBefore > Date.now()) this.controller.armReconcile(service, service.relaunchNotBefore);
      this.progressive.rearm(service);
      this.reconcile(service);
    }
  }

  /** Observes tasks reaching RUNNING (the application in them starts, and reads its secrets). */
  onTaskRunning(listener: (task: TaskRecord) => void): void {
    this.lifecycle.onTaskRunning(listener);
  }

  /** True while any service is rolling out or any task is between states. */
  isBusy(): boolean {
    if (this.lifecycle.hasPendingTransitions()) return true;
    for (const service of this.state.services.values())
      if (service.status === 'ACTIVE' && this.state.primary(service).rolloutState === 'IN_PROGRESS') return true;
    return false;
  }

  serviceRecord(cluster: string, serviceName: string): ServiceRecord | undefined {
    return this.state.services.get(this.state.serviceArn(cluster, serviceName));
  }

  serviceTasks(service: ServiceRecord): TaskRecord[] {
    return this.state.serviceTasks(service);
  }

  taskByIp(ip: string): TaskRecord | undefined {
    return this.lifecycle.taskByIp(ip);
  }

  taskDefinition(arn: string): TaskDefinitionRecord | undefined {
    return this.definitions.byArn(arn);
  }

  /** The targets registered in a target group, for Elastic Load Balancing's DescribeTargetHealth. */
  targetsIn(targetGroupArn: string): { id: string; port: number; state: 'initial' | 'healthy' | 'unhealthy' | 'draining' }[] {
    return this.lifecycle.targetsIn(targetGroupArn);
  }

  /** Each revision of the service and its share of production and test traffic (`rules`: its listener rules, if ECS does not know them yet). */
  traffic(service: ServiceRecord, rules?: ListenerRules): RevisionTraffic[] {
    return serviceTraffic(this.state, this.definitions, this.elb, service, rules);
  }

  /** Every service record (for telemetry). */
  allServices(): ServiceRecord[] {
    return [...this.state.services.values()];
  }

  /** A service as DescribeServices shows it. */
  describeService(service: ServiceRecord): object {
    return this.services.describeService(service);
  }

  /** CloudWatch told us an alarm changed state: fail a monitored deployment that it names. */
  alarmChanged(alarmName: string, state: string): void {
    this.deployments.alarmChanged(alarmName, state);
  }

  dispose(): void {
    this.lifecycle.dispose();
    this.controller.dispose();
    this.progressive.dispose();
  }

  // ---------------------------------------------------------------- seeding

  createCluster(name: string): void {
    this.state.clusters.add(name);
  }

  /**
   * A service that already runs `image` at steady state, as an existing production
   * service would when Assure is first pointed at it.
   */
  seedService(options: SeedServiceOptions): void {
    const definition = this.definitions.register(options.taskDefinition);
    const now = Date.now();
    const { service, deployment } = this.services.seed(options, definition, now);
    this.lifecycle.seedServing(service, deployment, definition, options.desiredCount, now);
    this.state.addServiceEvent(service, `(service ${service.serviceName}) has reached a steady state.`);
  }

  // ---------------------------------------------------------------- API

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'DescribeServices':
        return this.services.describeServices(input);
      case 'UpdateService':
        return { service: this.services.describeService(this.services.updateService(input)) };
      case 'DeleteService': {
        const deleted = this.services.deleteService(input, (service) => {
          const live = this.state.serviceTasks(service).filter((t) => t.desiredStatus === 'RUNNING');
          if (live.length > 0) this.lifecycle.stopTasks(service, live, `Scaling activity initiated by (deployment ${this.state.primary(service).id})`);
        });
        return { service: this.services.describeService(deleted) };
      }
      case 'DescribeTaskDefinition':
        return this.definitions.describeTaskDefinition(input);
      case 'RegisterTaskDefinition':
        return this.definitions.registerTaskDefinition(input);
      case 'ListTasks':
        return this.lifecycle.listTasks(input);
      case 'DescribeTasks':
        return this.lifecycle.describeTasks(input);
      case 'ListServiceDeployments':
        return this.deployments.listServiceDeployments(input);
      case 'DescribeServiceDeployments':
        return this.deployments.describeServiceDeployments(input);
      case 'DescribeServiceRevisions': {
        // ServiceRevision.containerImages: each container's image and the digest it resolved to.
        const answer = this.deployments.describeServiceRevisions(input) as { serviceRevisions: { taskDefinition: string }[]; failures: object[] };
        return {
          ...answer,
          serviceRevisions: answer.serviceRevisions.map((revision) => ({
            ...revision,
            containerImages: (this.definitions.byArn(revision.taskDefinition)?.containerDefinitions ?? []).map((c) => ({
              containerName: c.name,
              imageDigest: imageDigest(c.image),
              image: c.image,
            })),
          })),
        };
      }
      case 'StopServiceDeployment':
        return this.deployments.stopServiceDeployment(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement ECS ${operation}`);
    }
  }
}
