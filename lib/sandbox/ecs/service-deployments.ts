/**
 * Service deployments: each UpdateService rollout as a deployment record and as
 * the ListServiceDeployments history, how a rollout ends (completed, failed by
 * the circuit breaker or a deployment alarm, rolled back, stopped with
 * StopServiceDeployment), and the service revisions they target.
 *
 * The tasks themselves are the rolling controller's: after a change here the
 * service is handed back to it (`reconcile`).
 */
import { SimulatedAwsError } from '../aws-error';
import {
  type DeploymentRecord,
  ECS_TIMINGS,
  type LifecycleStage,
  type ServiceDeploymentCircuitBreaker,
  type ServiceDeploymentRecord,
  type ServiceRecord,
} from './records';
import type { EcsState } from './state';

/** A deployment alarm's current state and how long one evaluation of it takes (CloudWatch's, looked up by name). */
export type AlarmInfo = (alarmName: string) => { state: string; evaluationWindowMs: number } | undefined;

export class ServiceDeployments {
  /** A blue/green, canary or linear deployment rolled back to `target`: its traffic and tasks follow (set by SimulatedEcs). */
  progressiveRollback: ((service: ServiceRecord, failed: DeploymentRecord, target: DeploymentRecord) => void) | undefined;

  constructor(
    private readonly state: EcsState,
    private readonly alarmInfo: AlarmInfo,
    /** Lets the rolling controller act on the service (new primary, rollback) at once. */
    private readonly reconcile: (service: ServiceRecord) => void,
  ) {}

  // ---------------------------------------------------------------- deployments

  /** A new PRIMARY deployment, IN_PROGRESS, with the circuit breaker and alarm settings the service has now. */
  newDeployment(
    cluster: string,
    serviceName: string,
    taskDefinition: string,
    desiredCount: number,
    breaker: ServiceRecord['deploymentConfiguration']['deploymentCircuitBreaker'],
    alarms: ServiceRecord['deploymentConfiguration']['alarms'],
  ): DeploymentRecord {
    const context = this.state.context;
    const now = Date.now();
    const alarmNames = [...alarms.alarmNames];
    return {
      id: `ecs-svc/${context.random.digits(19)}`,
      serviceDeploymentArn: `arn:aws:ecs:${context.region}:${context.account}:service-deployment/${cluster}/${serviceName}/${context.random.chars(22, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`,
      serviceRevisionArn: `arn:aws:ecs:${context.region}:${context.account}:service-revision/${cluster}/${serviceName}/${context.random.digits(19)}`,
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
        ...(breaker.thresholdConfiguration ? { thresholdConfiguration: { ...breaker.thresholdConfiguration } } : {}),
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

  /**
   * UpdateService's new deployment (a new revision, or forceNewDeployment): it becomes
   * PRIMARY and the previous primary ACTIVE, its tasks left to the rolling controller.
   */
  startDeployment(cluster: string, service: ServiceRecord, target: string): DeploymentRecord {
    const deployment = this.newDeployment(
      cluster,
      service.serviceName,
      target,
      service.desiredCount,
      service.deploymentConfiguration.deploymentCircuitBreaker,
      service.deploymentConfiguration.alarms,
    );
    // The service keeps serving from the target group its last completed deployment serves from
    // (after a blue/green deployment, the alternate one); a blue/green deployment then picks its own.
    const serving = service.deployments.find((d) => d.rolloutState === 'COMPLETED')?.targetGroupArn;
    if (serving !== undefined) deployment.targetGroupArn = serving;
    for (const d of service.deployments) {
      if (d.status !== 'PRIMARY') continue;
      d.status = 'ACTIVE';
      // A rollout replaced before it finished is stopped.
      if (d.rolloutState === 'IN_PROGRESS') this.setServiceDeploymentStatus(service, d, 'STOPPED', `Replaced by ${deployment.id}.`);
    }
    service.deployments.unshift(deployment);
    this.recordServiceDeployment(service, deployment);
    service.taskDefinition = target;
    this.state.emitDeploymentEvent(service, deployment, 'SERVICE_DEPLOYMENT_IN_PROGRESS', `ECS deployment ${deployment.id} in progress.`);
    return deployment;
  }

  /** A blue/green, canary or linear deployment entered `stage` (DescribeServiceDeployments shows it). */
  setLifecycleStage(service: ServiceRecord, deployment: DeploymentRecord, stage: LifecycleStage): void {
    const record = this.serviceDeploymentOf(service, deployment);
    if (!record) return;
    record.lifecycleStage = stage;
    record.updatedAt = Date.now();
  }

  // ---------------------------------------------------------------- history

  /** Adds the deployment, IN_PROGRESS, and its target revision to the service's history. */
  recordServiceDeployment(service: ServiceRecord, deployment: DeploymentRecord): void {
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

  setServiceDeploymentStatus(service: ServiceRecord, deployment: DeploymentRecord, status: ServiceDeploymentRecord['status'], reason?: string): void {
    const record = this.serviceDeploymentOf(service, deployment);
    if (!record) return;
    record.status = status;
    record.updatedAt = Date.now();
    record.circuitBreaker = breakerView(deployment);
    if (reason !== undefined) record.statusReason = reason;
    if (['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'].includes(status)) record.finishedAt = Date.now();
  }

  listServiceDeployments(input: Record<string, unknown>): object {
    const cluster = this.state.requireCluster(input.cluster);
    const service = this.state.findService(cluster, input.service);
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
    for (const service of this.state.services.values()) {
      const record = service.serviceDeployments.find((r) => r.serviceDeploymentArn === arn);
      if (record) return { service, record };
    }
    return undefined;
  }

  describeServiceDeployments(input: Record<string, unknown>): object {
    const serviceDeployments: object[] = [];
    const failures: object[] = [];
    for (const arn of (input.serviceDeploymentArns ?? []) as string[]) {
      const found = this.findServiceDeployment(arn);
      if (!found) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      const { service, record } = found;
      const live = service.deployments.find((d) => d.serviceDeploymentArn === record.serviceDeploymentArn);
      const breaker = live ? breakerView(live) : record.circuitBreaker;
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
        ...(record.lifecycleStage ? { lifecycleStage: record.lifecycleStage } : {}),
        ...(breaker ? { deploymentCircuitBreaker: { ...breaker } } : {}),
        ...(record.rollback
          ? {
              rollback: {
                reason: record.rollback.reason,
                serviceRevisionArn: record.rollback.serviceRevisionArn,
                startedAt: new Date(record.rollback.startedAt),
              },
            }
          : {}),
      });
    }
    return { serviceDeployments, failures };
  }

  describeServiceRevisions(input: Record<string, unknown>): object {
    const serviceRevisions: object[] = [];
    const failures: object[] = [];
    for (const arn of (input.serviceRevisionArns ?? []) as string[]) {
      const revision = [...this.state.services.values()].flatMap((s) => s.serviceRevisions).find((r) => r.serviceRevisionArn === arn);
      if (!revision) failures.push({ arn, reason: 'MISSING' });
      else serviceRevisions.push({ ...revision, createdAt: new Date(revision.createdAt), launchType: 'FARGATE' });
    }
    return { serviceRevisions, failures };
  }

  /** StopServiceDeployment with ROLLBACK: rolls back even when the service did not configure rollback. */
  stopServiceDeployment(input: Record<string, unknown>): object {
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
    this.state.addServiceEvent(service, `(service ${service.serviceName}) (deployment ${deployment.id}) deployment stopped: rollback requested.`);
    this.rollBack(service, deployment, true, 'Service deployment stopped', deployment.rolloutStateReason);
    this.reconcile(service);
    return { serviceDeploymentArn: arn };
  }

  // ---------------------------------------------------------------- outcomes

  /** The primary reached steady state (and its bake ended): it becomes the service's only deployment. */
  complete(service: ServiceRecord, primary: DeploymentRecord): void {
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
    this.state.addServiceEvent(service, `(service ${service.serviceName}) (deployment ${primary.id}) deployment completed.`);
    this.state.addServiceEvent(service, `(service ${service.serviceName}) has reached a steady state.`);
    this.state.emitDeploymentEvent(service, primary, 'SERVICE_DEPLOYMENT_COMPLETED', primary.rolloutStateReason);
    this.state.emit('ECS Service Action', [service.serviceArn], {
      eventType: 'INFO',
      eventName: 'SERVICE_STEADY_STATE',
      clusterArn: service.clusterArn,
      createdAt: new Date().toISOString(),
    });
  }

  /** A lifecycle hook failed the deployment: it fails and rolls back (whatever the service configured). */
  failDeployment(service: ServiceRecord, deployment: DeploymentRecord, reason: string, serviceEvent: string, rollbackCause: string): void {
    this.fail(service, deployment, reason, serviceEvent, true, rollbackCause);
  }

  /** The circuit breaker or a deployment alarm failed the primary deployment. */
  private fail(service: ServiceRecord, deployment: DeploymentRecord, reason: string, serviceEvent: string, rollback: boolean, rollbackCause: string): void {
    deployment.rolloutState = 'FAILED';
    deployment.rolloutStateReason = reason;
    deployment.updatedAt = Date.now();
    delete deployment.bakeEndsAt;
    deployment.alarms.monitoring = false;
    this.state.addServiceEvent(service, `(service ${service.serviceName}) (deployment ${deployment.id}) deployment failed: ${serviceEvent}`);
    this.state.emitDeploymentEvent(service, deployment, 'SERVICE_DEPLOYMENT_FAILED', reason, 'ERROR');
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
      record.circuitBreaker = breakerView(deployment);
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
    this.state.addServiceEvent(service, `(service ${service.serviceName}) rolling back to deployment ${target.id}.`);
    this.state.emitDeploymentEvent(service, target, 'SERVICE_DEPLOYMENT_IN_PROGRESS', target.rolloutStateReason);
    if (deployment.progressive) this.progressiveRollback?.(service, deployment, target);
  }

  // ---------------------------------------------------------------- deployment alarms

  /** CloudWatch told us an alarm changed state: fail a monitored deployment that it names. */
  alarmChanged(alarmName: string, state: string): void {
    if (state !== 'ALARM') return;
    for (const service of this.state.services.values()) {
      const primary = this.state.primary(service);
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

  /** How long a rollout at steady state keeps watching its alarms before it completes. */
  bakeMs(deployment: DeploymentRecord): number {
    const alarms = deployment.alarms;
    if (!alarms.enable || alarms.ignored || alarms.names.length === 0) return 0;
    // AWS derives the bake time from the alarms' properties (undocumented formula, under 5 minutes):
    // here, one full evaluation window of the slowest alarm, capped at 5 minutes.
    const windows = alarms.names.map((name) => this.alarmInfo(name)?.evaluationWindowMs ?? 0);
    return Math.min(ECS_TIMINGS.maxAlarmBakeMs, Math.max(...windows));
  }

  // ---------------------------------------------------------------- circuit breaker

  /**
   * A task of `deployment` failed: it never reached RUNNING (stage 1), or it ran and failed its load-balancer or
   * container health checks and ECS replaced it (stage 2). Both count against the same threshold, computed from the
   * deployment's latest desired count when a failure is counted. Relaunches back off.
   */
  countFailure(service: ServiceRecord, deployment: DeploymentRecord): void {
    if (deployment.status !== 'PRIMARY' || deployment.rolloutState !== 'IN_PROGRESS') return;
    deployment.failedTasks += 1;
    deployment.updatedAt = Date.now();
    service.relaunchNotBefore = Date.now() + ECS_TIMINGS.relaunchBackoffMs;
    const breaker = deployment.circuitBreaker;
    if (breaker.enable && deployment.failedTasks >= circuitBreakerThreshold(deployment.desiredCount, breaker.thresholdConfiguration)) {
      // ECS gives the same reason whichever stage tripped the breaker.
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

  /** A task of `deployment` began serving: the circuit breaker's count starts again (resetOnHealthyTask). */
  countHealthy(deployment: DeploymentRecord): void {
    if (deployment.circuitBreaker.resetOnHealthyTask) deployment.failedTasks = 0;
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

/** The circuit breaker of `deployment` as DescribeServiceDeployments shows it, its threshold from the latest desired count. */
function breakerView(deployment: DeploymentRecord): ServiceDeploymentCircuitBreaker {
  const breaker = deployment.circuitBreaker;
  const tripped = deployment.rolloutState === 'FAILED' && deployment.rolloutStateReason.startsWith('ECS deployment circuit breaker');
  return {
    status: !breaker.enable ? 'DISABLED' : tripped ? 'TRIGGERED' : deployment.rolloutState === 'COMPLETED' ? 'MONITORING_COMPLETE' : 'MONITORING',
    failureCount: deployment.failedTasks,
    threshold: circuitBreakerThreshold(deployment.desiredCount, breaker.thresholdConfiguration),
  };
}
