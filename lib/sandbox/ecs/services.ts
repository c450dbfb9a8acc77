/**
 * ECS services: DescribeServices, UpdateService (desired count, grace period,
 * deployment configuration), DeleteService, and the services a sandbox starts
 * with. A new revision starts a service deployment; the rolling controller then
 * moves the tasks. A deleted service is DRAINING while its tasks stop, then
 * INACTIVE; UpdateService refuses both with ServiceNotActiveException.
 */
import { SimulatedAwsError } from '../aws-error';
import { mergeDeploymentConfiguration } from './deployment-configuration';
import type { EcsLoadBalancing } from './load-balancing';
import { mergeLoadBalancers, requireAdvancedConfiguration } from './progressive-configuration';
import type { DeploymentRecord, ServiceRecord, TargetGroupConfig, TaskDefinitionFields, TaskDefinitionRecord } from './records';
import type { ServiceDeployments } from './service-deployments';
import type { EcsState } from './state';
import type { TaskDefinitions } from './task-definitions';

export interface SeedServiceOptions {
  cluster: string;
  serviceName: string;
  taskDefinition: TaskDefinitionFields;
  desiredCount: number;
  healthCheckGracePeriodSeconds: number;
  loadBalancers: TargetGroupConfig[];
}

export class Services {
  constructor(
    private readonly state: EcsState,
    private readonly definitions: TaskDefinitions,
    private readonly deployments: ServiceDeployments,
    /** Lets the rolling controller act on a changed service at once. */
    private readonly reconcile: (service: ServiceRecord) => void,
    /** Blue/green, canary and linear: the load balancers ECS checks and the controller that runs such a deployment. */
    private readonly progressive?: {
      readonly elb?: EcsLoadBalancing;
      readonly begin: (service: ServiceRecord, deployment: DeploymentRecord) => void;
      readonly abandon: (service: ServiceRecord) => void;
    },
  ) {}

  /**
   * A service that already runs `definition` at steady state, as an existing
   * production service would when Assure is first pointed at it: one COMPLETED
   * deployment, recorded as a successful service deployment. Its tasks are the
   * task lifecycle's to seed.
   */
  seed(options: SeedServiceOptions, definition: TaskDefinitionRecord, now: number): { service: ServiceRecord; deployment: DeploymentRecord } {
    const serviceArn = this.state.serviceArn(options.cluster, options.serviceName);
    const deployment = this.deployments.newDeployment(
      options.cluster,
      options.serviceName,
      definition.taskDefinitionArn,
      options.desiredCount,
      {
        enable: false,
        rollback: false,
      },
      { alarmNames: [], enable: false, rollback: false },
    );
    deployment.rolloutState = 'COMPLETED';
    deployment.rolloutStateReason = `ECS deployment ${deployment.id} completed.`;
    const service: ServiceRecord = {
      serviceArn,
      serviceName: options.serviceName,
      clusterArn: this.state.clusterArn(options.cluster),
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
    this.state.services.set(serviceArn, service);
    this.deployments.recordServiceDeployment(service, deployment);
    this.deployments.setServiceDeploymentStatus(service, deployment, 'SUCCESSFUL');
    return { service, deployment };
  }

  describeServices(input: Record<string, unknown>): object {
    const cluster = this.state.requireCluster(input.cluster);
    const names = (input.services ?? []) as string[];
    if (names.length === 0 || names.length > 10) throw new SimulatedAwsError('InvalidParameterException', 'services must contain between 1 and 10 names.');
    const services: object[] = [];
    const failures: object[] = [];
    for (const name of names) {
      const service = this.state.findService(cluster, name);
      if (service) services.push(this.describeService(service));
      else failures.push({ arn: this.state.serviceArn(cluster, name.split('/').pop() ?? name), reason: 'MISSING' });
    }
    return { services, failures };
  }

  describeService(service: ServiceRecord): object {
    const tasks = this.state.serviceTasks(service);
    const running = (deploymentId?: string): number =>
      tasks.filter((t) => t.lastStatus === 'RUNNING' && (!deploymentId || t.deploymentId === deploymentId)).length;
    const pending = (deploymentId?: string): number =>
      tasks.filter((t) => (t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING') && (!deploymentId || t.deploymentId === deploymentId)).length;
    return {
      serviceArn: service.serviceArn,
      serviceName: service.serviceName,
      clusterArn: service.clusterArn,
      loadBalancers: service.loadBalancers.map((lb) => ({
        targetGroupArn: lb.targetGroupArn,
        containerName: lb.containerName,
        containerPort: lb.containerPort,
        ...(lb.advancedConfiguration ? { advancedConfiguration: { ...lb.advancedConfiguration } } : {}),
      })),
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

  updateService(input: Record<string, unknown>): ServiceRecord {
    const cluster = this.state.requireCluster(input.cluster);
    const service = this.state.findService(cluster, input.service);
    if (!service) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    if (service.status !== 'ACTIVE') throw new SimulatedAwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    const now = Date.now();
    // Every parameter is checked before any is applied: a refused call changes nothing.
    let definition: TaskDefinitionRecord | undefined;
    if (input.taskDefinition !== undefined) {
      definition = this.definitions.resolve(String(input.taskDefinition));
      if (!definition) throw new SimulatedAwsError('ClientException', 'TaskDefinition not found.');
      if (definition.status !== 'ACTIVE') throw new SimulatedAwsError('ClientException', 'TaskDefinition is inactive');
    }
    const desired = input.desiredCount === undefined ? undefined : Number(input.desiredCount);
    if (desired !== undefined && (!Number.isInteger(desired) || desired < 0)) {
      throw new SimulatedAwsError('InvalidParameterException', 'desiredCount must be a non-negative integer.');
    }
    if (input.healthCheckGracePeriodSeconds !== undefined && service.loadBalancers.length === 0) {
      throw new SimulatedAwsError('InvalidParameterException', 'Health check grace period is only valid for services configured to use load balancers');
    }
    const configuration =
      input.deploymentConfiguration === undefined ? undefined : mergeDeploymentConfiguration(service.deploymentConfiguration, input.deploymentConfiguration);
    const loadBalancers = input.loadBalancers === undefined ? undefined : mergeLoadBalancers(service.loadBalancers, input.loadBalancers, this.progressive?.elb);
    requireAdvancedConfiguration(configuration ?? service.deploymentConfiguration, loadBalancers ?? service.loadBalancers);
    if (loadBalancers) service.loadBalancers = loadBalancers;
    if (desired !== undefined) service.desiredCount = desired;
    if (input.healthCheckGracePeriodSeconds !== undefined) service.healthCheckGracePeriodSeconds = Number(input.healthCheckGracePeriodSeconds);
    if (configuration) service.deploymentConfiguration = configuration;

    const primary = this.state.primary(service);
    const changesRevision = definition !== undefined && definition.taskDefinitionArn !== primary.taskDefinition;
    if (changesRevision || input.forceNewDeployment === true) {
      const target = definition?.taskDefinitionArn ?? primary.taskDefinition;
      this.progressive?.abandon(service);
      const deployment = this.deployments.startDeployment(cluster, service, target);
      const strategy = service.deploymentConfiguration.strategy ?? 'ROLLING';
      if (strategy !== 'ROLLING') this.progressive?.begin(service, deployment);
    } else {
      primary.desiredCount = service.desiredCount;
      primary.updatedAt = now;
    }
    this.reconcile(service);
    return service;
  }

  /**
   * DeleteService: refused while the service is scaled above 0 unless `force`; otherwise the service drains
   * (desired count 0, its tasks stopped) and turns INACTIVE once they are all STOPPING or STOPPED.
   */
  deleteService(input: Record<string, unknown>, stopTasks: (service: ServiceRecord) => void): ServiceRecord {
    const cluster = this.state.requireCluster(input.cluster);
    const service = this.state.findService(cluster, input.service);
    if (!service) throw new SimulatedAwsError('ServiceNotFoundException', 'Service not found.');
    if (service.status !== 'ACTIVE') return service;
    if (service.desiredCount > 0 && input.force !== true) {
      throw new SimulatedAwsError('InvalidParameterException', 'The service cannot be stopped while it is scaled above 0.');
    }
    service.desiredCount = 0;
    service.status = 'DRAINING';
    for (const deployment of service.deployments) {
      deployment.desiredCount = 0;
      delete deployment.bakeEndsAt;
      deployment.alarms.monitoring = false;
    }
    stopTasks(service);
    this.drained(service);
    return service;
  }

  /** A DRAINING service turns INACTIVE once every task is STOPPING or STOPPED. */
  drained(service: ServiceRecord): void {
    if (service.status !== 'DRAINING') return;
    if (this.state.serviceTasks(service).every((t) => t.lastStatus === 'STOPPING' || t.lastStatus === 'STOPPED')) service.status = 'INACTIVE';
  }
}
