/**
 * What the ECS modules share: the clusters, services and tasks, the ARNs built
 * from them, and the service events and EventBridge events every module writes.
 * One instance per SimulatedEcs; the modules hold it rather than each other's maps.
 */
import { SimulatedAwsError } from '../aws-error';
import type { DeploymentRecord, EcsContext, EcsEventEmitter, ServiceRecord, TaskRecord } from './records';

export class EcsState {
  readonly clusters = new Set<string>();
  readonly services = new Map<string, ServiceRecord>();
  readonly tasks = new Map<string, TaskRecord>();
  /** Each new task takes the next private IP from this. */
  ipCounter = 10;

  constructor(
    readonly context: EcsContext,
    readonly emit: EcsEventEmitter,
  ) {}

  clusterArn(cluster: string): string {
    return `arn:aws:ecs:${this.context.region}:${this.context.account}:cluster/${cluster}`;
  }

  serviceArn(cluster: string, service: string): string {
    return `arn:aws:ecs:${this.context.region}:${this.context.account}:service/${cluster}/${service}`;
  }

  /** The cluster name of a name or ARN (`default` when absent); ClusterNotFoundException when there is no such cluster. */
  requireCluster(cluster: unknown): string {
    const name =
      String(cluster ?? 'default')
        .split('/')
        .pop() ?? 'default';
    if (!this.clusters.has(name)) throw new SimulatedAwsError('ClusterNotFoundException', 'Cluster not found.');
    return name;
  }

  /** A service of `cluster` by name or ARN. */
  findService(cluster: string, service: unknown): ServiceRecord | undefined {
    const name =
      String(service ?? '')
        .split('/')
        .pop() ?? '';
    return this.services.get(this.serviceArn(cluster, name));
  }

  serviceTasks(service: ServiceRecord): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => t.serviceArn === service.serviceArn);
  }

  primary(service: ServiceRecord): DeploymentRecord {
    const primary = service.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) throw new Error(`service ${service.serviceName} has no PRIMARY deployment`);
    return primary;
  }

  /** A line of the service's event log (DescribeServices shows the latest 100). */
  addServiceEvent(service: ServiceRecord, message: string): void {
    service.events.unshift({ id: this.context.random.uuid(), createdAt: Date.now(), message });
    if (service.events.length > 100) service.events.length = 100;
  }

  emitDeploymentEvent(service: ServiceRecord, deployment: DeploymentRecord, eventName: string, reason: string, eventType: 'INFO' | 'ERROR' = 'INFO'): void {
    this.emit('ECS Deployment State Change', [service.serviceArn], {
      eventType,
      eventName,
      deploymentId: deployment.id,
      updatedAt: new Date(deployment.updatedAt).toISOString(),
      reason,
    });
  }
}
