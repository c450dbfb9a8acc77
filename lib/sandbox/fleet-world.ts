/**
 * The fleet as it runs before Assure's first action, built from the fleet file:
 * every service steady on image 1.0.0 behind its target group, the fleet's
 * alarms, the trading services' admin-API token, and the halt flag cleared.
 * A service with a `trafficShift` serves from its production target group, and
 * the load balancer has both its target groups and its production (100 % to
 * that group) and test listener rules, ready for blue/green, canary and linear.
 * Also what the applications publish: the metrics the fleet's alarms watch.
 */
import { classifiedAlarms, tradingServices, type Fleet, type FleetSecret } from '../fleet/fleet';
import type { AccountContext } from '../naming';
import type { SeededRandom } from './deterministic';
import { ADMIN_TOKEN_VARIABLE, type SimulatedApplications } from './simulated-applications';
import type { SimulatedCloudWatch } from './simulated-cloudwatch';
import type { ServiceTraffic, SimulatedEcs, TaskRecord } from './simulated-ecs';
import type { SimulatedElbv2 } from './simulated-elbv2';
import type { RandomPasswordRequest } from './secrets-manager/random-password';
import type { SimulatedSecretsManager } from './simulated-secrets-manager';
import { combineSamples, metricSample, ServiceLoad } from './simulated-workloads';
import type { TargetGroupTraffic, TrafficView } from './target-group-metrics';

export const INITIAL_IMAGE_TAG = '1.0.0';

export interface FleetWorld {
  readonly fleet: Fleet;
  readonly context: AccountContext;
  readonly random: SeededRandom;
  readonly ecs: SimulatedEcs;
  /** The load balancer the fleet's traffic-shifting services sit behind (none: no listener rules are seeded). */
  readonly elbv2?: SimulatedElbv2;
  readonly cloudwatch: SimulatedCloudWatch;
  readonly secretsManager: SimulatedSecretsManager;
  readonly applications: SimulatedApplications;
  /** The load on each service (its CPU demand); resting load when absent. */
  readonly load?: ServiceLoad;
}

export function seedFleet(world: FleetWorld): void {
  const { fleet, context, random, ecs, cloudwatch, secretsManager } = world;
  // The managed secrets, each with a first value, and the containers that read them at start.
  const secretArns = new Map<string, string>();
  const containerSecrets = new Map<string, { name: string; valueFrom: string }[]>();
  const give = (serviceId: string, name: string, valueFrom: string): void => {
    const list = containerSecrets.get(serviceId) ?? [];
    if (!list.some((s) => s.name === name)) list.push({ name, valueFrom });
    containerSecrets.set(serviceId, list);
  };
  for (const secret of Object.values(fleet.secrets)) {
    const arn = secretsManager.createSecret({ Name: secret.name, SecretString: initialSecretValue(secret, secretsManager) }).ARN;
    secretArns.set(secret.name, arn);
    for (const consumer of secret.consumers) give(consumer, secret.variable, arn);
  }
  // The admin API token the trading services read at start and Assure reads to call them.
  if (fleet.halt) {
    const adminSecretArn =
      secretArns.get(fleet.halt.adminTokenSecret) ??
      secretsManager.createSecret({
        Name: fleet.halt.adminTokenSecret,
        SecretString: secretsManager.generatePassword({ PasswordLength: 40, ...PASSWORD_ALPHABETS.alphanumeric }),
      }).ARN;
    for (const id of tradingServices(fleet)) give(id, ADMIN_TOKEN_VARIABLE, adminSecretArn);
  }
  ecs.createCluster(fleet.cluster);
  for (const service of Object.values(fleet.services)) {
    const port = service.health.http?.port ?? 8080;
    const ports = [...new Set([port, ...(service.halt ? [service.halt.adminPort] : [])])];
    const tg = service.health.targetGroup;
    // Drawn for every service, so the seeded randomness stays the same whichever services shift traffic.
    const generatedTargetGroup = `arn:aws:elasticloadbalancing:${context.region}:${context.account}:targetgroup/${service.ecsServiceName}/${random.hex(16)}`;
    const shift = service.trafficShift;
    const settings = {
      port: shift?.containerPort ?? port,
      healthCheckIntervalSeconds: tg.intervalSeconds,
      healthyThresholdCount: tg.healthyThresholdCount,
      deregistrationDelaySeconds: tg.deregistrationDelaySeconds,
    };
    // Every service's target group exists in the load balancer (DescribeTargetHealth answers for it).
    world.elbv2?.createTargetGroup({ targetGroupArn: shift?.targetGroupArn ?? generatedTargetGroup, ...settings });
    if (shift && world.elbv2) {
      world.elbv2.createTargetGroup({ targetGroupArn: shift.alternateTargetGroupArn, ...settings });
      const serving = [{ targetGroupArn: shift.targetGroupArn, weight: 100 }];
      world.elbv2.createRule({ ruleArn: shift.productionListenerRuleArn, priority: 10, pathPatterns: [`/${service.id}/*`], forward: serving });
      world.elbv2.createRule({
        ruleArn: shift.testListenerRuleArn,
        priority: 5,
        pathPatterns: [`/${service.id}/*`],
        httpHeader: { name: 'X-Assure-Test-Traffic', values: ['true'] },
        forward: serving,
      });
    }
    ecs.seedService({
      cluster: fleet.cluster,
      serviceName: service.ecsServiceName,
      desiredCount: service.capacity.desired,
      healthCheckGracePeriodSeconds: service.health.gracePeriodSeconds,
      loadBalancers: [
        {
          targetGroupArn: shift?.targetGroupArn ?? generatedTargetGroup,
          containerName: service.container,
          containerPort: shift?.containerPort ?? port,
          intervalSeconds: tg.intervalSeconds,
          healthyThresholdCount: tg.healthyThresholdCount,
          deregistrationDelaySeconds: tg.deregistrationDelaySeconds,
        },
      ],
      taskDefinition: {
        family: service.ecsServiceName,
        containerDefinitions: [
          {
            name: service.container,
            image: `${service.imageRepository}:${INITIAL_IMAGE_TAG}`,
            essential: true,
            portMappings: ports.map((containerPort) => ({ containerPort, protocol: 'tcp' })),
            environment: [{ name: 'ASSURE_ENVIRONMENT', value: fleet.environment }],
            ...(containerSecrets.has(service.id) ? { secrets: containerSecrets.get(service.id) } : {}),
          },
        ],
        ...(service.taskRoleName ? { taskRoleArn: `arn:aws:iam::${context.account}:role/${service.taskRoleName}` } : {}),
        executionRoleArn: `arn:aws:iam::${context.account}:role/${service.executionRoleName}`,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '1024',
        memory: '2048',
        tags: [{ key: 'assure:environment', value: fleet.environment }],
      },
    });
  }
  for (const { alarm } of classifiedAlarms(fleet)) {
    cloudwatch.putMetricAlarm({
      AlarmName: alarm.name,
      AlarmDescription: alarm.description,
      Namespace: alarm.metric.namespace,
      MetricName: alarm.metric.name,
      Dimensions: Object.entries(alarm.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
      Statistic: alarm.metric.statistic,
      Period: alarm.metric.periodSeconds,
      EvaluationPeriods: alarm.evaluationPeriods,
      DatapointsToAlarm: alarm.datapointsToAlarm ?? alarm.evaluationPeriods,
      Threshold: alarm.threshold,
      ComparisonOperator: alarm.comparison,
      TreatMissingData: alarm.treatMissingData,
    });
  }
}

/** Each revision of a fleet service and its share of production and test traffic now. */
export function fleetTraffic(world: FleetWorld, serviceId: string): ServiceTraffic {
  const service = world.fleet.services[serviceId];
  const record = service ? world.ecs.serviceRecord(world.fleet.cluster, service.ecsServiceName) : undefined;
  if (!record) throw new Error(`The fleet has no service ${serviceId}`);
  const shift = service?.trafficShift;
  const rules = shift ? { productionListenerRule: shift.productionListenerRuleArn, testListenerRule: shift.testListenerRuleArn } : undefined;
  return { revisions: world.ecs.traffic(record, rules), at: Date.now() };
}

/** Calls `listener` with a fleet service's traffic whenever ECS changes the weights of one of its listener rules; returns the unsubscribe. */
export function watchTraffic(world: FleetWorld, listener: (serviceId: string, traffic: ServiceTraffic) => void): () => void {
  const stop = world.elbv2?.onRuleChange((ruleArn) => {
    for (const service of Object.values(world.fleet.services)) {
      const record = world.ecs.serviceRecord(world.fleet.cluster, service.ecsServiceName);
      const rules = record?.loadBalancers.flatMap((lb) => [lb.advancedConfiguration?.productionListenerRule, lb.advancedConfiguration?.testListenerRule]) ?? [];
      const shift = service.trafficShift;
      if (rules.includes(ruleArn) || shift?.productionListenerRuleArn === ruleArn || shift?.testListenerRuleArn === ruleArn) {
        listener(service.id, fleetTraffic(world, service.id));
      }
    }
  });
  return stop ?? (() => undefined);
}

/**
 * How traffic reaches the target groups of the services that shift it (blue/green, canary, linear):
 * each revision's target group with the listener rules' weights and the revision's serving tasks.
 * The per-target-group load balancer metrics are published from it.
 */
export function trafficView(world: FleetWorld): TrafficView {
  return {
    targetGroups: (): TargetGroupTraffic[] =>
      Object.values(world.fleet.services).flatMap((service) => {
        if (!service.trafficShift) return [];
        const record = world.ecs.serviceRecord(world.fleet.cluster, service.ecsServiceName);
        if (!record) return [];
        const tasks = world.ecs.serviceTasks(record).filter((t) => t.lastStatus === 'RUNNING' && t.target === 'healthy');
        return fleetTraffic(world, service.id).revisions.map((revision) => ({
          serviceId: service.id,
          targetGroupArn: revision.targetGroupArn,
          loadBalancer: service.trafficShift?.productionListenerRuleArn ?? '',
          productionShare: revision.productionWeight / 100,
          testShare: revision.testWeight / 100,
          servingTasks: tasks
            .filter((t) => t.taskDefinitionArn === revision.taskDefinitionArn)
            .map((t) => ({ image: revision.image, startedAt: t.startedAt ?? Date.now(), halted: world.applications.haltState(t).halted })),
        }));
      }),
  };
}

/**
 * Each task's share of its service's production requests: a traffic-shifting service's revision gets its
 * production listener rule's weight, split among that revision's tasks; otherwise the tasks share equally.
 */
function requestShares(world: FleetWorld, serviceId: string, tasks: readonly TaskRecord[]): number[] {
  if (!world.fleet.services[serviceId]?.trafficShift || tasks.length === 0) return tasks.map(() => 1 / Math.max(1, tasks.length));
  const weights = new Map(fleetTraffic(world, serviceId).revisions.map((r) => [r.taskDefinitionArn, r.productionWeight / 100]));
  const perRevision = new Map<string, number>();
  for (const t of tasks) perRevision.set(t.taskDefinitionArn, (perRevision.get(t.taskDefinitionArn) ?? 0) + 1);
  return tasks.map((t) => (weights.get(t.taskDefinitionArn) ?? 0) / (perRevision.get(t.taskDefinitionArn) ?? 1));
}

const RESTING_LOAD = new ServiceLoad();

/**
 * The fleet file's alphabets as GetRandomPassword options: a first value is what
 * an operator would make with Secrets Manager's own generator.
 */
const PASSWORD_ALPHABETS: Readonly<Record<'alphanumeric' | 'hex' | 'base64url', RandomPasswordRequest>> = {
  alphanumeric: { ExcludePunctuation: true },
  hex: { ExcludeUppercase: true, ExcludePunctuation: true, ExcludeCharacters: 'ghijklmnopqrstuvwxyz' },
  base64url: { ExcludeCharacters: '!"#$%&\'()*+,./:;<=>?@[\\]^`{|}~' },
};

/**
 * A first value of the secret's kind, from the simulated GetRandomPassword
 * (rotation makes the next ones). Seeded, so the sandbox stays deterministic.
 */
function initialSecretValue(secret: FleetSecret, secretsManager: SimulatedSecretsManager): string {
  if (secret.kind === 'signing-key') {
    const hex = secretsManager.generatePassword({ PasswordLength: secret.bytes * 2, ...PASSWORD_ALPHABETS.hex });
    return secret.encoding === 'hex' ? hex : Buffer.from(hex, 'hex').toString(secret.encoding);
  }
  return secretsManager.generatePassword({ PasswordLength: secret.length, ...PASSWORD_ALPHABETS[secret.alphabet] });
}

/**
 * One round of application metrics: for each alarm's metric, the tasks that
 * produce it (the service its `Service` dimension names, or every trading
 * service) contribute a sample while they serve traffic.
 */
export function publishTelemetry(world: FleetWorld, now = Date.now()): void {
  const { fleet, ecs, cloudwatch, applications } = world;
  const serving = (ids: readonly string[]): TaskRecord[] =>
    ids.flatMap((id) => {
      const service = fleet.services[id];
      const record = service ? ecs.serviceRecord(fleet.cluster, service.ecsServiceName) : undefined;
      return record ? ecs.serviceTasks(record).filter((t) => t.lastStatus === 'RUNNING' && (t.target === 'healthy' || t.target === 'unused')) : [];
    });
  const published = new Set<string>();
  for (const { alarm } of classifiedAlarms(fleet)) {
    const metric = alarm.metric;
    const key = `${metric.namespace}|${metric.name}|${JSON.stringify(metric.dimensions)}`;
    if (published.has(key)) continue;
    published.add(key);
    // `Service` is the applications' own dimension; `ServiceName` is ECS's (AWS/ECS CPUUtilization).
    const byEcsName = Object.values(fleet.services).find((s) => s.ecsServiceName === metric.dimensions.ServiceName)?.id;
    const producers = metric.dimensions.Service ? [metric.dimensions.Service] : byEcsName ? [byEcsName] : tradingServices(fleet);
    const load = world.load ?? RESTING_LOAD;
    const weighted = producers.flatMap((id) => {
      const tasks = serving([id]);
      // The service's load is shared by its serving tasks: more tasks, less CPU each.
      const share = { cpuPercent: load.cpuPerTask(id, fleet.services[id]?.capacity.desired ?? 1, tasks.length) };
      const shares = requestShares(world, id, tasks);
      return tasks.map((t, i) => ({
        value: metricSample(metric.name, applications.behaviourOf(t), now - (t.startedAt ?? now), applications.haltState(t, now).halted, share),
        share: shares[i] ?? 0,
      }));
    });
    const samples = weighted.filter((w): w is { value: number; share: number } => w.value !== undefined);
    if (samples.length === 0) continue;
    cloudwatch.record(
      metric.namespace,
      metric.name,
      Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
      combineSamples(
        metric.name,
        samples.map((w) => w.value),
        samples.map((w) => w.share),
      ),
      now,
    );
  }
}
