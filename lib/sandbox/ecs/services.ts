/**
 * ECS services: DescribeServices and UpdateService (desired count, grace period,
 * deployment configuration), and the services a sandbox starts with. A new
 * revision starts a service deployment; the rolling controller then moves the
 * tasks.
 */
import { SimulatedAwsError } from '../aws-error';
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
  ) {}

  /**
   * A service that already runs `definition` at steady state, as an existing
   * production service would when Assure is first pointed at it: one COMPLETED
   * deployment, recorded as a successful service deployment. Its tasks are the
   * task lifecycle's to seed.
   */
  seed(options: SeedServiceOptions, definition: TaskDefinitionRecord, now: number): { service: ServiceRecord; deployment: DeploymentRecord } {
    const serviceArn = this.state.serviceArn(options.cluster, options.serviceName);
    const deployment = this.deployments.newDeployment(options.cluster, options.serviceName, definition.taskDefinitionArn, options.desiredCount, {
      enable: false,
      rollback: false,
    }, { alarmNames: [], enable: false, rollback: false });
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

  updateService(input: Record<string, unknown>): ServiceRecord {
    const cluster = this.state.requireCluster(input.cluster);
    const service = this.state.findService(cluster, input.service);
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

    const primary = this.state.primary(service);
    const changesRevision = definition !== undefined && definition.taskDefinitionArn !== primary.taskDefinition;
    if (changesRevision || input.forceNewDeployment === true) {
      const target = definition?.taskDefinitionArn ?? primary.taskDefinition;
      this.deployments.startDeployment(cluster, service, target);
    } else {
      primary.desiredCount = service.desiredCount;
      primary.updatedAt = now;
    }
    this.reconcile(service);
    return service;
  }
}
