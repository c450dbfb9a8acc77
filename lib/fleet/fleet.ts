/**
 * Resolving a fleet document: zod → cross-checks → a resolved Fleet whose services
 * carry their defaults and a dependency order. YAML reading lives in fleet-file.ts so
 * Lambda bundles that read the bundled JSON do not carry a YAML parser.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import {
  fleetSchema,
  type AdminApiTransportInput,
  type AlarmDefinition,
  type DeployStrategy,
  type JudgeMetric,
  type ManagedSecret,
  type ParsedFleet,
  type ScalingPolicy,
  type ServiceRelease,
  type ServiceRole,
  type TrafficShift,
} from './fleet-schema';

export interface FleetIssue {
  /** Dotted path into the fleet file, e.g. `services.order-gateway.capacity.min`. */
  readonly path: string;
  readonly message: string;
}

/** The fleet file is invalid; every issue names the path and the reason. */
export class FleetFileError extends Error {
  override readonly name = 'FleetFileError';
  constructor(
    readonly source: string,
    readonly issues: readonly FleetIssue[],
  ) {
    super(`${source} is not a valid fleet file:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

export interface FleetService {
  /** The service's key in the fleet file, e.g. `order-gateway`. */
  readonly id: string;
  readonly ecsServiceName: string;
  readonly container: string;
  readonly imageRepository: string;
  readonly role: ServiceRole;
  readonly dependsOn: readonly string[];
  readonly capacity: { readonly desired: number; readonly min: number; readonly max: number };
  readonly strategy: DeployStrategy;
  /** Blue/green, canary and linear only: the target groups and listener rules ECS shifts traffic between. */
  readonly trafficShift?: TrafficShift;
  /** What starts a release of this service (a push with a matching tag, or only a manifest). */
  readonly release: ServiceRelease;
  /** Service metrics the canary judge compares besides the load balancer's. */
  readonly judgeMetrics: readonly JudgeMetric[];
  readonly health: ParsedFleet['services'][string]['health'];
  readonly rollbackAlarms: readonly AlarmDefinition[];
  readonly taskRoleName?: string;
  readonly executionRoleName: string;
  /** Trading services only: how the service stops on a halt, and its admin API port. */
  readonly halt?: { readonly mode: 'soft' | 'hard'; readonly adminPort: number };
  /** Alarm-driven step scaling, cooldowns and scheduled capacity, when the service scales. */
  readonly scaling?: ScalingPolicy;
}

/**
 * How the admin API is called, resolved: over https the CA bundle is the PEM itself (read from the
 * file the fleet file names), so the resolved fleet carries it to the Lambda functions and stays
 * a valid fleet document.
 */
export type AdminApiTransport =
  | { readonly scheme: 'https'; readonly caBundle: string; readonly serverName?: string; readonly allowPlainHttpInVpc: boolean }
  | { readonly scheme: 'http'; readonly allowPlainHttpInVpc: true };

export type FleetHalt = Omit<NonNullable<ParsedFleet['halt']>, 'adminApi'> & { readonly adminApi: AdminApiTransport };

/** The admin API's port when the fleet names none and it is served over https (the health checks keep plain HTTP on theirs). */
export const DEFAULT_HTTPS_ADMIN_PORT = 8443;

/** A secret Assure rotates, keyed by its id in the fleet file. */
export type FleetSecret = ManagedSecret & { readonly id: string };

export interface Fleet {
  readonly environment: string;
  readonly account?: string;
  readonly region?: string;
  readonly cluster: string;
  readonly network?: ParsedFleet['network'];
  readonly deploy: ParsedFleet['deploy'];
  readonly halt?: FleetHalt;
  readonly notifyAlarms: readonly AlarmDefinition[];
  readonly guardRails: ParsedFleet['guardRails'];
  readonly approvals: ParsedFleet['approvals'];
  readonly release: ParsedFleet['release'];
  readonly paging: ParsedFleet['paging'];
  /** The audit archive's retention. */
  readonly audit: ParsedFleet['audit'];
  readonly secrets: Readonly<Record<string, FleetSecret>>;
  readonly services: Readonly<Record<string, FleetService>>;
  /** Service ids with every dependency before its dependants. */
  readonly deployOrder: readonly string[];
}

export interface ParseFleetOptions {
  /** The fleet file's directory: files it names (halt.adminApi.caBundle) are read relative to it. */
  readonly baseDirectory?: string;
}

/** Validates an already-parsed fleet document (YAML or the bundled JSON) into a resolved Fleet. */
export function parseFleet(raw: unknown, sourceName = 'fleet file', options: ParseFleetOptions = {}): Fleet {
  const parsed = fleetSchema.safeParse(raw);
  if (!parsed.success) {
    throw new FleetFileError(sourceName, zodIssues(parsed.error));
  }
  return resolveFleet(parsed.data, sourceName, options);
}

export function zodIssues(error: z.ZodError): FleetIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

function resolveFleet(fleet: ParsedFleet, sourceName: string, options: ParseFleetOptions): Fleet {
  const issues: FleetIssue[] = [];
  const adminApi = fleet.halt ? resolveAdminApi(fleet.halt.adminApi, options, issues) : undefined;
  const services: Record<string, FleetService> = {};
  const ecsNames = new Map<string, string>();
  const alarmOwners = new Map<string, string>();
  const claimAlarm = (name: string, path: string, owner: string): void => {
    const existing = alarmOwners.get(name);
    if (existing) issues.push({ path, message: `alarm ${name} is already defined by ${existing}` });
    alarmOwners.set(name, owner);
  };

  for (const [id, service] of Object.entries(fleet.services)) {
    const ecsServiceName = service.ecsServiceName ?? id;
    const clash = ecsNames.get(ecsServiceName);
    if (clash) {
      issues.push({ path: `services.${id}.ecsServiceName`, message: `ECS service ${ecsServiceName} is already used by ${clash}` });
    }
    ecsNames.set(ecsServiceName, id);
    service.dependsOn.forEach((dependency, index) => {
      if (dependency === id) {
        issues.push({ path: `services.${id}.dependsOn.${index}`, message: 'a service cannot depend on itself' });
      } else if (!(dependency in fleet.services)) {
        issues.push({ path: `services.${id}.dependsOn.${index}`, message: `unknown service ${dependency}` });
      }
    });
    service.rollbackAlarms.forEach((alarm, index) => claimAlarm(alarm.name, `services.${id}.rollbackAlarms.${index}.name`, id));
    service.scaling?.alarms.forEach((alarm, index) => claimAlarm(alarm.name, `services.${id}.scaling.alarms.${index}.name`, id));
    service.scaling?.schedule.forEach((entry, index) => {
      if (entry.desired < service.capacity.min || entry.desired > service.capacity.max) {
        issues.push({
          path: `services.${id}.scaling.schedule.${index}.desired`,
          message: `must be within capacity.min (${service.capacity.min}) and capacity.max (${service.capacity.max})`,
        });
      }
    });
    if (service.halt && service.role !== 'trading') {
      issues.push({ path: `services.${id}.halt`, message: 'only trading services have a halt policy' });
    }
    if (service.health.http !== undefined && fleet.network === undefined) {
      issues.push({
        path: `services.${id}.health.http`,
        message: 'an HTTP health check needs the fleet-level network (vpcId, subnetIds, securityGroupIds) to reach tasks',
      });
    }
    if (service.strategy.type !== 'rolling' && service.health.http === undefined) {
      // ECS-native blue/green, canary and linear need a load balancer or Service Connect.
      issues.push({ path: `services.${id}.strategy`, message: `${service.strategy.type} needs a load-balanced service with health.http` });
    }
    if (service.strategy.type !== 'rolling' && service.trafficShift === undefined) {
      issues.push({
        path: `services.${id}.trafficShift`,
        message: `${service.strategy.type} needs the two target groups, the production and test listener rules and the traffic-shift role`,
      });
    }
    if (service.trafficShift && service.trafficShift.targetGroupArn === service.trafficShift.alternateTargetGroupArn) {
      issues.push({ path: `services.${id}.trafficShift.alternateTargetGroupArn`, message: 'must differ from targetGroupArn' });
    }
    if (service.trafficShift && service.trafficShift.productionListenerRuleArn === service.trafficShift.testListenerRuleArn) {
      issues.push({ path: `services.${id}.trafficShift.testListenerRuleArn`, message: 'must differ from productionListenerRuleArn' });
    }
    if (service.judge.metrics.length > 0 && service.trafficShift === undefined) {
      issues.push({ path: `services.${id}.judge.metrics`, message: 'the canary judge runs only for blue/green, canary and linear services' });
    }
    services[id] = {
      id,
      ecsServiceName,
      container: service.container ?? id,
      imageRepository: service.imageRepository,
      role: service.role,
      dependsOn: service.dependsOn,
      capacity: service.capacity,
      strategy: service.strategy,
      ...(service.trafficShift === undefined ? {} : { trafficShift: service.trafficShift }),
      release: service.release,
      judgeMetrics: service.judge.metrics,
      health: service.health,
      rollbackAlarms: service.rollbackAlarms,
      ...(service.taskRoleName === undefined ? {} : { taskRoleName: service.taskRoleName }),
      executionRoleName: service.executionRoleName,
      ...(service.role === 'trading' ? { halt: { mode: service.halt?.mode ?? 'soft', adminPort: adminPortOf(service, adminApi?.scheme, id, issues) } } : {}),
      ...(service.scaling === undefined ? {} : { scaling: service.scaling }),
    };
  }
  fleet.halt?.alarms.forEach((alarm, index) => {
    claimAlarm(alarm.name, `halt.alarms.${index}.name`, 'halt');
    alarm.services?.forEach((target, i) => {
      if (fleet.services[target]?.role !== 'trading') {
        issues.push({ path: `halt.alarms.${index}.services.${i}`, message: `${target} is not a trading service of the fleet` });
      }
    });
  });
  fleet.notifyAlarms.forEach((alarm, index) => claimAlarm(alarm.name, `notifyAlarms.${index}.name`, 'notifyAlarms'));
  const secretNames = new Map<string, string>();
  const secrets: Record<string, FleetSecret> = {};
  for (const [id, secret] of Object.entries(fleet.secrets)) {
    const clash = secretNames.get(secret.name);
    if (clash) issues.push({ path: `secrets.${id}.name`, message: `secret ${secret.name} is already managed as ${clash}` });
    secretNames.set(secret.name, id);
    secret.consumers.forEach((consumer, index) => {
      if (!(consumer in fleet.services)) issues.push({ path: `secrets.${id}.consumers.${index}`, message: `unknown service ${consumer}` });
    });
    secrets[id] = { ...secret, id };
  }

  const { order, cycle } = dependencyOrder(services);
  if (cycle) {
    issues.push({ path: `services.${cycle[0]}.dependsOn`, message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  if (issues.length > 0) throw new FleetFileError(sourceName, issues);

  return {
    environment: fleet.environment,
    ...(fleet.account === undefined ? {} : { account: fleet.account }),
    ...(fleet.region === undefined ? {} : { region: fleet.region }),
    cluster: fleet.cluster,
    ...(fleet.network === undefined ? {} : { network: fleet.network }),
    deploy: fleet.deploy,
    ...(fleet.halt === undefined || adminApi === undefined ? {} : { halt: { ...fleet.halt, adminApi } }),
    notifyAlarms: fleet.notifyAlarms,
    guardRails: fleet.guardRails,
    approvals: fleet.approvals,
    release: fleet.release,
    paging: fleet.paging,
    audit: fleet.audit,
    secrets,
    services,
    deployOrder: order,
  };
}

/** The admin API's port: named, or 8443 over https and the health check's port over http (they cannot share one: TLS on one, plain HTTP on the other). */
function adminPortOf(service: ParsedFleet['services'][string], scheme: 'https' | 'http' | undefined, id: string, issues: FleetIssue[]): number {
  const healthPort = service.health.http?.port;
  if (scheme !== 'https') return service.halt?.adminPort ?? healthPort ?? 8080;
  const port = service.halt?.adminPort ?? DEFAULT_HTTPS_ADMIN_PORT;
  if (port === healthPort) {
    issues.push({
      path: `services.${id}.halt.adminPort`,
      message: `the admin API is served over https (halt.adminApi) and the health checks call port ${port} over plain HTTP (health.http.port): give the admin API a port of its own`,
    });
  }
  return port;
}

function resolveAdminApi(api: AdminApiTransportInput, options: ParseFleetOptions, issues: FleetIssue[]): AdminApiTransport | undefined {
  if (api.scheme === 'http') return { scheme: 'http', allowPlainHttpInVpc: true };
  const caBundle = api.caBundle === undefined ? undefined : readCaBundle(api.caBundle, options, issues);
  if (caBundle === undefined) return undefined;
  return { scheme: 'https', caBundle, ...(api.serverName === undefined ? {} : { serverName: api.serverName }), allowPlainHttpInVpc: api.allowPlainHttpInVpc };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

/** The CA bundle's certificates as PEM, each checked to be a CA certificate that has not expired; issues name the file and the reason. */
function readCaBundle(value: string, options: ParseFleetOptions, issues: FleetIssue[]): string | undefined {
  const path = 'halt.adminApi.caBundle';
  const inline = value.trimStart().startsWith('-----BEGIN');
  let pem = value;
  let label = 'the PEM given';
  if (!inline) {
    if (options.baseDirectory === undefined) {
      issues.push({ path, message: `${value}: a fleet document read without its file cannot resolve a relative path; give the PEM itself` });
      return undefined;
    }
    const file = resolve(options.baseDirectory, value);
    label = `${value} (${file})`;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      issues.push({ path, message: `${label} cannot be read: ${(error as Error).message}` });
      return undefined;
    }
  }
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    issues.push({ path, message: `${label} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
    return undefined;
  }
  const before = issues.length;
  blocks.forEach((block, index) => {
    const which = blocks.length === 1 ? 'its certificate' : `certificate ${index + 1}`;
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      issues.push({ path, message: `${label}: ${which} is not a valid X.509 certificate (${(error as Error).message})` });
      return;
    }
    const subject = certificate.subject.replace(/\n/g, ', ');
    if (!certificate.ca) issues.push({ path, message: `${label}: ${which} (${subject}) is not a CA certificate (basicConstraints CA:FALSE)` });
    if (Date.parse(certificate.validTo) < Date.now()) issues.push({ path, message: `${label}: ${which} (${subject}) expired on ${certificate.validTo}` });
  });
  return issues.length === before ? `${blocks.join('\n')}\n` : undefined;
}

/** Kahn's algorithm, stable by fleet-file order; reports one cycle when there is one. */
function dependencyOrder(services: Record<string, FleetService>): { order: string[]; cycle?: string[] } {
  const ids = Object.keys(services);
  // Unknown and self dependencies are reported on their own; they are not part of the order.
  const remaining = new Map(ids.map((id) => [id, new Set(services[id]?.dependsOn.filter((d) => d in services && d !== id))]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([id]) => id);
    if (ready.length === 0) return { order, cycle: findCycle(remaining) };
    for (const id of ready) {
      order.push(id);
      remaining.delete(id);
      for (const deps of remaining.values()) deps.delete(id);
    }
  }
  return { order };
}

function findCycle(graph: Map<string, Set<string>>): string[] {
  const start = [...graph.keys()][0] as string;
  const path = [start];
  let current = start;
  for (;;) {
    const next = [...(graph.get(current) ?? [])][0] as string;
    const seen = path.indexOf(next);
    if (seen >= 0) return [...path.slice(seen), next];
    path.push(next);
    current = next;
  }
}

// Questions handlers ask of a resolved fleet live apart, so a bundle that asks them carries no schema.
export * from './fleet-queries';
