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
 * - The circuit breaker counts consecutive task failures against
 *   ceil(50% × desired), clamped to [3, 200] (or the thresholdConfiguration); a
 *   task turning healthy resets the count. On failure, with rollback on, ECS
 *   re-promotes the most recent COMPLETED deployment (same id, IN_PROGRESS
 *   again); with none it stalls.
 * - Deployment alarms: monitored once a new task runs, through the bake time; an
 *   alarm already in ALARM when the deployment starts turns monitoring off.
 *
 * Every future transition is stored on the record it changes (`next`), so the
 * state is plain data that can be saved and re-armed.
 */
import { SimulatedAwsError } from './aws-error';
import type { SeededRandom } from './deterministic';
import type { SimulatedService } from './sdk-transport';
import { crashesOnStart, extraStartMs, type ImageCatalogue } from './simulated-workloads';
import { TaskDefinitions } from './ecs/task-definitions';
import {
  type DeploymentRecord,
  ECS_TIMINGS,
  type EcsEventEmitter,
  type EcsSnapshot,
  type ServiceDeploymentRecord,
  type ServiceRecord,
  STOPPED_TASK_RETENTION_MS,
  type TargetGroupConfig,
  type TaskDefinitionFields,
  type TaskDefinitionRecord,
  type TaskRecord,
  taskId,
} from './ecs/records';

export { ECS_TIMINGS } from './ecs/records';
export type {
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

export class SimulatedEcs implements SimulatedService {
  private readonly clusters = new Set<string>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly taskRunningListeners: ((task: TaskRecord) => void)[] = [];
  private ipCounter = 10;
  private readonly definitions: TaskDefinitions;

  constructor(
    private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom },
    private readonly images: ImageCatalogue,
    private readonly emit: EcsEventEmitter,
    private readonly alarmInfo: (alarmName: string) => { state: string; evaluationWindowMs: number } | undefined,
  ) {
    this.definitions = new TaskDefinitions(context);
  }

  // ---------------------------------------------------------------- state

  snapshot(): EcsSnapshot {
    return structuredClone({
      clusters: [...this.clusters],
      taskDefinitions: this.definitions.all(),
      services: [...this.services.values()],
      tasks: [...this.tasks.values()].filter((t) => t.lastStatus !== 'STOPPED' || (t.stoppedAt ?? 0) > Date.now() - STOPPED_TASK_RETENTION_MS),
      ipCounter: this.ipCounter,
    });
  }

  restore(snapshot: EcsSnapshot): void {
    const copy = structuredClone(snapshot);
    copy.clusters.forEach((c) => this.clusters.add(c));
    this.definitions.restore(copy.taskDefinitions);
    copy.services.forEach((s) => this.services.set(s.serviceArn, s));
    copy.tasks.forEach((t) => this.tasks.set(t.taskArn, t));
    this.ipCounter = copy.ipCounter;
    // Re-arm every pending transition.
    for (const task of this.tasks.values()) if (task.next) this.arm(task);
    for (const service of this.services.values()) {
      const primary = this.primary(service);
      if (primary.bakeEndsAt) this.armReconcile(service, primary.bakeEndsAt);
      if (service.relaunchNotBefore > Date.now()) this.armReconcile(service, service.relaunchNotBefore);
      this.reconcile(service);
    }
  }

  /** Observes tasks reaching RUNNING (the application in them starts, and reads its secrets). */
  onTaskRunning(listener: (task: TaskRecord) => void): void {
    this.taskRunningListeners.push(listener);
  }

  /** True while any service is rolling out or any task is between states. */
  isBusy(): boolean {
    for (const task of this.tasks.values()) if (task.next) return true;
    for (const service of this.services.values()) if (this.primary(service).rolloutState === 'IN_PROGRESS') return true;
    return false;
  }

  serviceRecord(cluster: string, serviceName: string): ServiceRecord | undefined {
    return this.services.get(this.serviceArn(cluster, serviceName));
  }

  serviceTasks(service: ServiceRecord): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => t.serviceArn === service.serviceArn);
  }

  taskByIp(ip: string): TaskRecord | undefined {
    return [...this.tasks.values()].find((t) => t.privateIp === ip && t.lastStatus !== 'STOPPED');
  }

  taskDefinition(arn: string): TaskDefinitionRecord | undefined {
    return this.definitions.byArn(arn);
  }

  /** Every service record (for telemetry). */
  allServices(): ServiceRecord[] {
    return [...this.services.values()];
  }

  // ---------------------------------------------------------------- seeding

  createCluster(name: string): void {
    this.clusters.add(name);
  }

  /**
   * A service that already runs `image` at steady state, as an existing production
   * service would when Assure is first pointed at it.
   */
  seedService(options: {
    cluster: string;
    serviceName: string;
    taskDefinition: TaskDefinitionFields;
    desiredCount: number;
    healthCheckGracePeriodSeconds: number;
    loadBalancers: TargetGroupConfig[];
  }): void {
    const definition = this.definitions.register(options.taskDefinition);
    const now = Date.now();
    const serviceArn = this.serviceArn(options.cluster, options.serviceName);
    const deployment = this.newDeployment(options.cluster, options.serviceName, definition.taskDefinitionArn, options.desiredCount, {
      enable: false,
      rollback: false,
    }, { alarmNames: [], enable: false, rollback: false });
    deployment.rolloutState = 'COMPLETED';
    deployment.rolloutStateReason = `ECS deployment ${deployment.id} completed.`;
    const service: ServiceRecord = {
      serviceArn,
      serviceName: options.serviceName,
      clusterArn: this.clusterArn(options.cluster),
      status: 'ACTIVE',
      desiredCount: options.desiredCount,
      taskDefinition: definition.taskDefinitionArn,
      launchType: 'FARGATE',
      createdAt: now,
      healthCheckGracePeriodSeconds: options.healthCheckGracePeriodSeconds,
      deploymentConfiguration: {
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        deploymentCircuitBreaker: { enable: false, rollback: false },
        alarms: { alarmNames: [], enable: false, rollback: false },
      },
      loadBalancers: options.loadBalancers,
      deployments: [deployment],
      serviceDeployments: [],
      serviceRevisions: [],
      events: [],
      relaunchNotBefore: 0,
    };
    this.services.set(serviceArn, service);
    this.recordServiceDeployment(service, deployment);
    this.setServiceDeploymentStatus(service, deployment, 'SUCCESSFUL');
    for (let i = 0; i < options.desiredCount; i += 1) {
      const task = this.newTask(service, deployment, definition);
      task.lastStatus = 'RUNNING';
      task.startedAt = now;
      task.target = options.loadBalancers.length > 0 ? 'healthy' : 'unused';
      task.servingSince = now;
      this.tasks.set(task.taskArn, task);
      for (const listener of this.taskRunningListeners) listener(task);
    }
    this.addServiceEvent(service, `(service ${service.serviceName}) has reached a steady state.`);
  }

  // ---------------------------------------------------------------- API

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'DescribeServices':
        return this.describeServices(input);
      case 'UpdateService':
        return { service: this.describeService(this.updateService(input)) };
      case 'DescribeTaskDefinition':
        return this.definitions.describeTaskDefinition(input);
      case 'RegisterTaskDefinition':
        return this.definitions.registerTaskDefinition(input);
      case 'ListTasks':
        return this.listTasks(input);
      case 'DescribeTasks':
        return this.describeTasks(input);
      case 'ListServiceDeployments':
        return this.listServiceDeployments(input);
      case 'DescribeServiceDeployments':
        return this.describeServiceDeployments(input);
      case 'DescribeServiceRevisions':
        return this.describeServiceRevisions(input);
      case 'StopServiceDeployment':
        return this.stopServiceDeployment(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement ECS ${operation}`);
    }
  }

  private requireCluster(cluster: unknown): string {
    const name = String(cluster ?? 'default').split('/').pop() ?? 'default';
    if (!this.clusters.has(name)) throw new SimulatedAwsError('ClusterNotFoundException', 'Cluster not found.');
    return name;
  }

  private findService(cluster: string, service: unknown): ServiceRecord | undefined {
    const name = String(service ?? '').split('/').pop() ?? '';
    return this.services.get(this.serviceArn(cluster, name));
  }

  private describeServices(input: Record<string, unknown>): object {
    const cluster = this.requireCluster(input.cluster);
    const names = (input.services ?? []) as string[];
    if (names.length === 0 || names.length > 10) throw new SimulatedAwsError('InvalidParameterException', 'services must contain between 1 and 10 names.');
    const services: object[] = [];
    const failures: object[] = [];
    for (const name of names) {
      const service = this.findService(cluster, name);
      if (service) services.push(this.describeService(service));
      else failures.push({ arn: this.serviceArn(cluster, name.split('/').pop() ?? name), reason: 'MISSING' });
    }
    return { services, failures };
  }

  describeService(service: ServiceRecord): object {
    const tasks = this.serviceTasks(service);
    const running = (deploymentId?: string): number => tasks.filter((t) => t.lastStatus === 'RUNNING' && (!deploymentId || t.deploymentId === deploymentId)).length;
    const pending = (deploymentId?: string): number =>
      tasks.filter((t) => (t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING') && (!deploymentId || t.deploymentId === deploymentId)).length;
    return {
      serviceArn: service.serviceArn,
      serviceName: service.serviceName,
      clusterArn: service.clusterArn,
      loadBalancers: service.loadBalancers.map((lb) => ({ targetGroupArn: lb.targetGroupArn, containerName: lb.containerName, containerPort: lb.containerPort })),
      status: service.status,
      desiredCount: service.desiredCount,
      runningCount: running(),
      pendingCount: pending(),
      launchType: service.launchType,
      taskDefinition: service.taskDefinition,
      deploymentConfiguration: structuredClone(service.deploymentConfiguration),
      deploymentController: { type: 'ECS' },
      deployments: service.deployments
        .filter((d) => d.status !== 'INACTIVE')
        .map((d) => ({
          id: d.id,
          status: d.status,
          taskDefinition: d.taskDefinition,
          desiredCount: d.desiredCount,
          pendingCount: pending(d.id),
          runningCount: running(d.id),
          failedTasks: d.failedTasks,
          createdAt: new Date(d.createdAt),
          updatedAt: new Date(d.updatedAt),
          launchType: 'FARGATE',
          rolloutState: d.rolloutState,
          rolloutStateReason: d.rolloutStateReason,
        })),
      events: service.events.map((e) => ({ id: e.id, createdAt: new Date(e.createdAt), message: e.message })),
      createdAt: new Date(service.createdAt),
      healthCheckGracePeriodSeconds: service.healthCheckGracePeriodSeconds,
      schedulingStrategy: 'REPLICA',
    };
  }

  private updateService(input: Record<string, unknown>): ServiceRecord {
    const cluster = this.requireCluster(input.cluster);
    const service = this.findService(cluster, input.service);
    if (!service) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    if (service.status !== 'ACTIVE') throw new SimulatedAwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    const now = Date.now();
    let definition: TaskDefinitionRecord | undefined;
    if (input.taskDefinition !== undefined) {
      definition = this.definitions.resolve(String(input.taskDefinition));
      if (!definition) throw new SimulatedAwsError('ClientException', 'TaskDefinition not found.');
      if (definition.status !== 'ACTIVE') throw new SimulatedAwsError('ClientException', 'TaskDefinition is inactive');
    }
    if (input.desiredCount !== undefined) {
      const desired = Number(input.desiredCount);
      if (!Number.isInteger(desired) || desired < 0) throw new SimulatedAwsError('InvalidParameterException', 'desiredCount must be a non-negative integer.');
      service.desiredCount = desired;
    }
    if (input.healthCheckGracePeriodSeconds !== undefined) {
      if (service.loadBalancers.length === 0) {
        throw new SimulatedAwsError('InvalidParameterException', 'Health check grace period is only valid for services configured to use load balancers');
      }
      service.healthCheckGracePeriodSeconds = Number(input.healthCheckGracePeriodSeconds);
    }
    const config = input.deploymentConfiguration as Partial<ServiceRecord['deploymentConfiguration']> | undefined;
    if (config) {
      const merged = { ...service.deploymentConfiguration, ...structuredClone(config) };
      if (merged.maximumPercent <= 100 && merged.minimumHealthyPercent >= 100) {
        throw new SimulatedAwsError('InvalidParameterException', 'maximumPercent must be greater than 100 or minimumHealthyPercent less than 100.');
      }
      service.deploymentConfiguration = merged;
    }

    const primary = this.primary(service);
    const changesRevision = definition !== undefined && definition.taskDefinitionArn !== primary.taskDefinition;
    if (changesRevision || input.forceNewDeployment === true) {
      const target = definition?.taskDefinitionArn ?? primary.taskDefinition;
      const deployment = this.newDeployment(
        cluster,
        service.serviceName,
        target,
        service.desiredCount,
        service.deploymentConfiguration.deploymentCircuitBreaker,
        service.deploymentConfiguration.alarms,
      );
      for (const d of service.deployments) {
        if (d.status !== 'PRIMARY') continue;
        d.status = 'ACTIVE';
        // A rollout replaced before it finished is stopped.
        if (d.rolloutState === 'IN_PROGRESS') this.setServiceDeploymentStatus(service, d, 'STOPPED', `Replaced by ${deployment.id}.`);
      }
      service.deployments.unshift(deployment);
      this.recordServiceDeployment(service, deployment);
      service.taskDefinition = target;
      this.emitDeploymentEvent(service, deployment, 'SERVICE_DEPLOYMENT_IN_PROGRESS', `ECS deployment ${deployment.id} in progress.`);
    } else {
      primary.desiredCount = service.desiredCount;
      primary.updatedAt = now;
    }
    this.reconcile(service);
    return service;
  }

  private listTasks(input: Record<string, unknown>): object {
    const cluster = this.requireCluster(input.cluster);
    const desiredStatus = (input.desiredStatus as string | undefined) ?? 'RUNNING';
    let service: ServiceRecord | undefined;
    if (input.serviceName !== undefined) {
      service = this.findService(cluster, input.serviceName);
      if (!service) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    }
    const retainedSince = Date.now() - STOPPED_TASK_RETENTION_MS;
    const arns = [...this.tasks.values()]
      .filter(
        (t) =>
          t.clusterArn === this.clusterArn(cluster) &&
          (!service || t.serviceArn === service.serviceArn) &&
          t.desiredStatus === desiredStatus &&
          (input.startedBy === undefined || t.startedBy === input.startedBy) &&
          (t.lastStatus !== 'STOPPED' || (t.stoppedAt ?? 0) >= retainedSince),
      )
      .map((t) => t.taskArn);
    return { taskArns: arns };
  }

  private describeTasks(input: Record<string, unknown>): object {
    const cluster = this.requireCluster(input.cluster);
    const requested = (input.tasks ?? []) as string[];
    if (requested.length === 0 || requested.length > 100) throw new SimulatedAwsError('InvalidParameterException', 'tasks must contain between 1 and 100 ids.');
    const tasks: object[] = [];
    const failures: object[] = [];
    for (const reference of requested) {
      const id = reference.split('/').pop() ?? reference;
      const task = [...this.tasks.values()].find((t) => t.taskArn.endsWith(`/${id}`) && t.clusterArn === this.clusterArn(cluster));
      if (!task) {
        failures.push({ arn: reference, reason: 'MISSING' });
        continue;
      }
      const definition = this.taskDefinition(task.taskDefinitionArn);
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

  // ---------------------------------------------------------------- scheduler

  private reconcile(service: ServiceRecord): void {
    if (service.status !== 'ACTIVE') return;
    const now = Date.now();
    const primary = this.primary(service);
    const live = (): TaskRecord[] => this.serviceTasks(service).filter((t) => t.desiredStatus === 'RUNNING');
    const config = service.deploymentConfiguration;

    // 1. Start tasks for the primary deployment, within maximumPercent. A FAILED deployment launches nothing.
    if (primary.rolloutState !== 'FAILED') {
      const primaryLive = live().filter((t) => t.deploymentId === primary.id);
      const maxTotal = Math.floor((service.desiredCount * config.maximumPercent) / 100);
      const launch = Math.min(primary.desiredCount - primaryLive.length, Math.max(0, maxTotal - live().length));
      if (launch > 0 && service.relaunchNotBefore > now) {
        this.armReconcile(service, service.relaunchNotBefore);
      } else if (launch > 0) {
        const definition = this.taskDefinition(primary.taskDefinition);
        if (definition) {
          const started = Array.from({ length: launch }, () => this.startTask(service, primary, definition));
          this.addServiceEvent(service, `(service ${service.serviceName}) has started ${started.length} tasks: ${started.map((t) => `(task ${taskId(t)})`).join(' ')}.`);
        }
      }
      // Scale in: the primary runs more tasks than it should.
      const extra = live().filter((t) => t.deploymentId === primary.id).length - primary.desiredCount;
      if (extra > 0) {
        const victims = live()
          .filter((t) => t.deploymentId === primary.id)
          .sort((a, b) => b.createdAt - a.createdAt)
          .slice(0, extra);
        this.stopTasks(service, victims, `Scaling activity initiated by (deployment ${primary.id})`);
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
    if (toStop.length > 0) this.stopTasks(service, toStop, `Scaling activity initiated by (deployment ${primary.id})`);

    // 3. Steady state: the primary serves its desired count and nothing else remains.
    if (primary.rolloutState === 'IN_PROGRESS') {
      const primaryLive = live().filter((t) => t.deploymentId === primary.id);
      const ready = primaryLive.length === primary.desiredCount && primaryLive.every((t) => this.isServing(t));
      const othersGone = this.serviceTasks(service).every((t) => t.deploymentId === primary.id || t.lastStatus === 'STOPPED');
      if (ready && othersGone) {
        const bake = this.bakeMs(primary);
        if (bake > 0 && primary.bakeEndsAt === undefined) {
          primary.bakeEndsAt = now + bake;
          this.armReconcile(service, primary.bakeEndsAt);
        } else if (bake === 0 || (primary.bakeEndsAt !== undefined && now >= primary.bakeEndsAt)) {
          this.complete(service, primary);
        }
      }
    }
  }

  private complete(service: ServiceRecord, primary: DeploymentRecord): void {
    primary.rolloutState = 'COMPLETED';
    primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
    primary.updatedAt = Date.now();
    delete primary.bakeEndsAt;
    primary.alarms.monitoring = false;
    for (const record of service.serviceDeployments) {
      if (record.status === 'ROLLBACK_IN_PROGRESS' && record.rollback?.serviceRevisionArn === primary.serviceRevisionArn) {
        record.status = 'ROLLBACK_SUCCESSFUL';
        record.finishedAt = Date.now();
        record.updatedAt = Date.now();
      }
    }
    if (this.serviceDeploymentOf(service, primary)?.status === 'IN_PROGRESS') this.setServiceDeploymentStatus(service, primary, 'SUCCESSFUL');
    service.deployments = service.deployments.filter((d) => d === primary);
    this.addServiceEvent(service, `(service ${service.serviceName}) (deployment ${primary.id}) deployment completed.`);
    this.addServiceEvent(service, `(service ${service.serviceName}) has reached a steady state.`);
    this.emitDeploymentEvent(service, primary, 'SERVICE_DEPLOYMENT_COMPLETED', primary.rolloutStateReason);
    this.emit('ECS Service Action', [service.serviceArn], {
      eventType: 'INFO',
      eventName: 'SERVICE_STEADY_STATE',
      clusterArn: service.clusterArn,
      createdAt: new Date().toISOString(),
    });
  }

  /** The circuit breaker or a deployment alarm failed the primary deployment. */
  private fail(service: ServiceRecord, deployment: DeploymentRecord, reason: string, serviceEvent: string, rollback: boolean, rollbackCause: string): void {
    deployment.rolloutState = 'FAILED';
    deployment.rolloutStateReason = reason;
    deployment.updatedAt = Date.now();
    delete deployment.bakeEndsAt;
    deployment.alarms.monitoring = false;
    this.addServiceEvent(service, `(service ${service.serviceName}) (deployment ${deployment.id}) deployment failed: ${serviceEvent}`);
    this.emitDeploymentEvent(service, deployment, 'SERVICE_DEPLOYMENT_FAILED', reason, 'ERROR');
    this.rollBack(service, deployment, rollback, rollbackCause, reason);
  }

  /**
   * Returns the service to its most recent COMPLETED deployment (re-promoted: same
   * id, IN_PROGRESS again). Without one, the failed deployment stalls.
   */
  private rollBack(service: ServiceRecord, deployment: DeploymentRecord, rollback: boolean, rollbackCause: string, reason: string): void {
    if (!rollback) {
      this.setServiceDeploymentStatus(service, deployment, 'STOPPED', reason);
      return;
    }
    const target = service.deployments.find((d) => d !== deployment && d.rolloutState === 'COMPLETED');
    if (!target) {
      this.setServiceDeploymentStatus(service, deployment, 'ROLLBACK_FAILED', `${reason} No COMPLETED deployment to roll back to.`);
      return;
    }
    const record = this.serviceDeploymentOf(service, deployment);
    if (record) {
      record.status = 'ROLLBACK_IN_PROGRESS';
      record.statusReason = reason;
      record.updatedAt = Date.now();
      record.rollback = { reason, serviceRevisionArn: target.serviceRevisionArn, startedAt: Date.now() };
    }
    deployment.status = 'ACTIVE';
    target.status = 'PRIMARY';
    target.rolloutState = 'IN_PROGRESS';
    target.rolloutStateReason = `${rollbackCause}: rolling back to deploymentId ${target.id}.`;
    target.desiredCount = service.desiredCount;
    target.failedTasks = 0;
    target.updatedAt = Date.now();
    target.alarms = { ...target.alarms, monitoring: false, ignored: true };
    service.taskDefinition = target.taskDefinition;
    service.deployments = [target, ...service.deployments.filter((d) => d !== target)];
    this.addServiceEvent(service, `(service ${service.serviceName}) rolling back to deployment ${target.id}.`);
    this.emitDeploymentEvent(service, target, 'SERVICE_DEPLOYMENT_IN_PROGRESS', target.rolloutStateReason);
  }

  /** CloudWatch told us an alarm changed state: fail a monitored deployment that it names. */
  alarmChanged(alarmName: string, state: string): void {
    if (state !== 'ALARM') return;
    for (const service of this.services.values()) {
      const primary = this.primary(service);
      const alarms = primary.alarms;
      if (primary.rolloutState !== 'IN_PROGRESS' || !alarms.enable || alarms.ignored || !alarms.monitoring || !alarms.names.includes(alarmName)) continue;
      this.fail(
        service,
        primary,
        `ECS deployment ${primary.id} failed: alarm ${alarmName} is in ALARM state.`,
        'alarm detected.',
        alarms.rollback,
        'ECS deployment alarms',
      );
      this.reconcile(service);
    }
  }

  private bakeMs(deployment: DeploymentRecord): number {
    const alarms = deployment.alarms;
    if (!alarms.enable || alarms.ignored || alarms.names.length === 0) return 0;
    // AWS derives the bake time from the alarms' properties (undocumented formula, under 5 minutes):
    // here, one full evaluation window of the slowest alarm, capped at 5 minutes.
    const windows = alarms.names.map((name) => this.alarmInfo(name)?.evaluationWindowMs ?? 0);
    return Math.min(ECS_TIMINGS.maxAlarmBakeMs, Math.max(...windows));
  }

  private isServing(task: TaskRecord): boolean {
    return task.lastStatus === 'RUNNING' && (task.target === 'healthy' || task.target === 'unused');
  }

  private startTask(service: ServiceRecord, deployment: DeploymentRecord, definition: TaskDefinitionRecord): TaskRecord {
    const task = this.newTask(service, deployment, definition);
    task.next = { at: Date.now() + ECS_TIMINGS.provisioningMs, action: 'pending' };
    this.tasks.set(task.taskArn, task);
    this.arm(task);
    if (deployment.alarms.enable && !deployment.alarms.ignored) deployment.alarms.monitoring = true;
    return task;
  }

  private newTask(service: ServiceRecord, deployment: DeploymentRecord, definition: TaskDefinitionRecord): TaskRecord {
    const cluster = service.clusterArn.split('/').pop() ?? '';
    this.ipCounter += 1;
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
      privateIp: `10.0.${Math.floor(this.ipCounter / 250)}.${(this.ipCounter % 250) + 2}`,
      image: essential?.image ?? '',
      target: 'unused',
    };
  }

  private stopTasks(service: ServiceRecord, tasks: readonly TaskRecord[], reason: string): void {
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
      this.addServiceEvent(service, `(service ${service.serviceName}) deregistered ${draining.length} targets in (target-group ${lb.targetGroupArn})`);
      this.addServiceEvent(service, `(service ${service.serviceName}) has begun draining connections on ${draining.length} tasks.`);
    }
    this.addServiceEvent(service, `(service ${service.serviceName}) has stopped ${tasks.length} running tasks: ${tasks.map((t) => `(task ${taskId(t)})`).join(' ')}.`);
  }

  /** Runs a task's scheduled transition. */
  private advance(task: TaskRecord): void {
    const step = task.next;
    const service = this.services.get(task.serviceArn);
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
        this.addServiceEvent(service, `(service ${service.serviceName}) has stopped 1 running tasks: (task ${taskId(task)}).`);
        if (deployment) this.countFailure(service, deployment);
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
          this.addServiceEvent(service, `(service ${service.serviceName}) registered 1 targets in (target-group ${lb.targetGroupArn})`);
        } else {
          task.servingSince = now;
          if (deployment) this.countHealthy(deployment);
        }
        break;
      case 'healthy':
        task.target = 'healthy';
        task.servingSince = now;
        if (deployment) this.countHealthy(deployment);
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
    this.reconcile(service);
  }

  private countFailure(service: ServiceRecord, deployment: DeploymentRecord): void {
    if (deployment.status !== 'PRIMARY' || deployment.rolloutState !== 'IN_PROGRESS') return;
    deployment.failedTasks += 1;
    deployment.updatedAt = Date.now();
    service.relaunchNotBefore = Date.now() + ECS_TIMINGS.relaunchBackoffMs;
    const breaker = deployment.circuitBreaker;
    if (breaker.enable && deployment.failedTasks >= breaker.threshold) {
      this.fail(
        service,
        deployment,
        'ECS deployment circuit breaker: tasks failed to start.',
        'tasks failed to start.',
        breaker.rollback,
        'ECS deployment circuit breaker',
      );
    }
  }

  private countHealthy(deployment: DeploymentRecord): void {
    if (deployment.circuitBreaker.resetOnHealthyTask) deployment.failedTasks = 0;
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

  private armReconcile(service: ServiceRecord, at: number): void {
    const key = `reconcile:${service.serviceArn}:${at}`;
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.reconcile(service);
      }, Math.max(0, at - Date.now())),
    );
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  // ---------------------------------------------------------------- service deployments

  private recordServiceDeployment(service: ServiceRecord, deployment: DeploymentRecord): void {
    const now = Date.now();
    service.serviceRevisions.unshift({
      serviceRevisionArn: deployment.serviceRevisionArn,
      serviceArn: service.serviceArn,
      clusterArn: service.clusterArn,
      taskDefinition: deployment.taskDefinition,
      createdAt: now,
    });
    service.serviceDeployments.unshift({
      serviceDeploymentArn: deployment.serviceDeploymentArn,
      deploymentId: deployment.id,
      targetServiceRevisionArn: deployment.serviceRevisionArn,
      status: 'IN_PROGRESS',
      createdAt: now,
      startedAt: now,
      updatedAt: now,
    });
  }

  private serviceDeploymentOf(service: ServiceRecord, deployment: DeploymentRecord): ServiceDeploymentRecord | undefined {
    return service.serviceDeployments.find((r) => r.serviceDeploymentArn === deployment.serviceDeploymentArn);
  }

  private setServiceDeploymentStatus(service: ServiceRecord, deployment: DeploymentRecord, status: ServiceDeploymentRecord['status'], reason?: string): void {
    const record = this.serviceDeploymentOf(service, deployment);
    if (!record) return;
    record.status = status;
    record.updatedAt = Date.now();
    if (reason !== undefined) record.statusReason = reason;
    if (['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'].includes(status)) record.finishedAt = Date.now();
  }

  private listServiceDeployments(input: Record<string, unknown>): object {
    const cluster = this.requireCluster(input.cluster);
    const service = this.findService(cluster, input.service);
    if (!service) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    const statuses = input.status as string[] | undefined;
    const after = (input.createdAt as { after?: Date } | undefined)?.after;
    const records = service.serviceDeployments
      .filter((r) => (!statuses || statuses.includes(r.status)) && (!after || r.createdAt >= new Date(after).getTime()))
      .slice(0, Number(input.maxResults ?? 20) || 20);
    return {
      serviceDeployments: records.map((r) => ({
        serviceDeploymentArn: r.serviceDeploymentArn,
        serviceArn: service.serviceArn,
        clusterArn: service.clusterArn,
        targetServiceRevisionArn: r.targetServiceRevisionArn,
        status: r.status,
        ...(r.statusReason ? { statusReason: r.statusReason } : {}),
        createdAt: new Date(r.createdAt),
        startedAt: new Date(r.startedAt),
        ...(r.finishedAt ? { finishedAt: new Date(r.finishedAt) } : {}),
      })),
    };
  }

  private findServiceDeployment(arn: string): { service: ServiceRecord; record: ServiceDeploymentRecord } | undefined {
    for (const service of this.services.values()) {
      const record = service.serviceDeployments.find((r) => r.serviceDeploymentArn === arn);
      if (record) return { service, record };
    }
    return undefined;
  }

  private describeServiceDeployments(input: Record<string, unknown>): object {
    const serviceDeployments: object[] = [];
    const failures: object[] = [];
    for (const arn of (input.serviceDeploymentArns ?? []) as string[]) {
      const found = this.findServiceDeployment(arn);
      if (!found) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      const { service, record } = found;
      serviceDeployments.push({
        serviceDeploymentArn: record.serviceDeploymentArn,
        serviceArn: service.serviceArn,
        clusterArn: service.clusterArn,
        createdAt: new Date(record.createdAt),
        startedAt: new Date(record.startedAt),
        updatedAt: new Date(record.updatedAt),
        ...(record.finishedAt ? { finishedAt: new Date(record.finishedAt) } : {}),
        targetServiceRevision: { arn: record.targetServiceRevisionArn },
        status: record.status,
        ...(record.statusReason ? { statusReason: record.statusReason } : {}),
        ...(record.rollback
          ? { rollback: { reason: record.rollback.reason, serviceRevisionArn: record.rollback.serviceRevisionArn, startedAt: new Date(record.rollback.startedAt) } }
          : {}),
      });
    }
    return { serviceDeployments, failures };
  }

  private describeServiceRevisions(input: Record<string, unknown>): object {
    const serviceRevisions: object[] = [];
    const failures: object[] = [];
    for (const arn of (input.serviceRevisionArns ?? []) as string[]) {
      const revision = [...this.services.values()].flatMap((s) => s.serviceRevisions).find((r) => r.serviceRevisionArn === arn);
      if (!revision) failures.push({ arn, reason: 'MISSING' });
      else serviceRevisions.push({ ...revision, createdAt: new Date(revision.createdAt), launchType: 'FARGATE' });
    }
    return { serviceRevisions, failures };
  }

  /** StopServiceDeployment with ROLLBACK: rolls back even when the service did not configure rollback. */
  private stopServiceDeployment(input: Record<string, unknown>): object {
    const arn = String(input.serviceDeploymentArn ?? '');
    const found = this.findServiceDeployment(arn);
    if (!found) throw new SimulatedAwsError('ServiceDeploymentNotFoundException', `The service deployment ${arn} does not exist.`);
    if ((input.stopType ?? 'ROLLBACK') !== 'ROLLBACK') throw new SimulatedAwsError('InvalidParameterException', 'The only valid stopType is ROLLBACK.');
    const { service, record } = found;
    if (['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS', 'STOP_REQUESTED'].includes(record.status)) return { serviceDeploymentArn: arn };
    if (record.status !== 'IN_PROGRESS' && record.status !== 'PENDING') {
      throw new SimulatedAwsError('ConflictException', `The service deployment is ${record.status} and can no longer be stopped.`);
    }
    const deployment = service.deployments.find((d) => d.serviceDeploymentArn === arn);
    if (!deployment) throw new SimulatedAwsError('ConflictException', 'The service deployment has no active deployment to stop.');
    record.status = 'ROLLBACK_REQUESTED';
    deployment.rolloutState = 'FAILED';
    deployment.rolloutStateReason = `Service deployment stopped with ROLLBACK (StopServiceDeployment).`;
    deployment.updatedAt = Date.now();
    delete deployment.bakeEndsAt;
    deployment.alarms.monitoring = false;
    this.addServiceEvent(service, `(service ${service.serviceName}) (deployment ${deployment.id}) deployment stopped: rollback requested.`);
    this.rollBack(service, deployment, true, 'Service deployment stopped', deployment.rolloutStateReason);
    this.reconcile(service);
    return { serviceDeploymentArn: arn };
  }

  // ---------------------------------------------------------------- helpers

  private primary(service: ServiceRecord): DeploymentRecord {
    const primary = service.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) throw new Error(`service ${service.serviceName} has no PRIMARY deployment`);
    return primary;
  }

  private newDeployment(
    cluster: string,
    serviceName: string,
    taskDefinition: string,
    desiredCount: number,
    breaker: ServiceRecord['deploymentConfiguration']['deploymentCircuitBreaker'],
    alarms: ServiceRecord['deploymentConfiguration']['alarms'],
  ): DeploymentRecord {
    const now = Date.now();
    const alarmNames = [...alarms.alarmNames];
    return {
      id: `ecs-svc/${this.context.random.digits(19)}`,
      serviceDeploymentArn: `arn:aws:ecs:${this.context.region}:${this.context.account}:service-deployment/${cluster}/${serviceName}/${this.context.random.chars(22, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`,
      serviceRevisionArn: `arn:aws:ecs:${this.context.region}:${this.context.account}:service-revision/${cluster}/${serviceName}/${this.context.random.digits(19)}`,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: '',
      circuitBreaker: {
        enable: breaker.enable,
        rollback: breaker.rollback,
        resetOnHealthyTask: breaker.resetOnHealthyTask ?? true,
        threshold: circuitBreakerThreshold(desiredCount, breaker.thresholdConfiguration),
      },
      alarms: {
        names: alarmNames,
        enable: alarms.enable,
        rollback: alarms.rollback,
        // An alarm already in ALARM when the deployment starts switches monitoring off for it.
        ignored: alarms.enable && alarmNames.some((name) => this.alarmInfo(name)?.state === 'ALARM'),
        monitoring: false,
      },
    };
  }

  private emitDeploymentEvent(
    service: ServiceRecord,
    deployment: DeploymentRecord,
    eventName: string,
    reason: string,
    eventType: 'INFO' | 'ERROR' = 'INFO',
  ): void {
    this.emit('ECS Deployment State Change', [service.serviceArn], {
      eventType,
      eventName,
      deploymentId: deployment.id,
      updatedAt: new Date(deployment.updatedAt).toISOString(),
      reason,
    });
  }

  private addServiceEvent(service: ServiceRecord, message: string): void {
    service.events.unshift({ id: this.context.random.uuid(), createdAt: Date.now(), message });
    if (service.events.length > 100) service.events.length = 100;
  }

  private clusterArn(cluster: string): string {
    return `arn:aws:ecs:${this.context.region}:${this.context.account}:cluster/${cluster}`;
  }

  private serviceArn(cluster: string, service: string): string {
    return `arn:aws:ecs:${this.context.region}:${this.context.account}:service/${cluster}/${service}`;
  }
}

/** AWS's circuit-breaker threshold: BOUNDED_PERCENT 50 by default, i.e. ceil(0.5 × desired) clamped to [3, 200]. */
export function circuitBreakerThreshold(desiredCount: number, configuration?: { type: string; value: number }): number {
  const type = configuration?.type ?? 'BOUNDED_PERCENT';
  const value = configuration?.value ?? 50;
  if (type === 'COUNT') return value;
  const computed = Math.ceil((value / 100) * desiredCount);
  return type === 'UNBOUNDED_PERCENT' ? Math.max(1, computed) : Math.min(200, Math.max(3, computed));
}

