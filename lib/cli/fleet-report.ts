/**
 * Status, health and history of the fleet, read through the same AWS APIs a CLI
 * pointed at a real account would call.
 */
import { DescribeTaskDefinitionCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { readAuditTrail, type AuditRecord } from '../../functions/shared/domain/audit';
import { assessServiceHealth, type HealthReport, type HealthStatus } from '../../functions/shared/domain/service-health';
import type { Sandbox } from '../sandbox/sandbox';
import { type Output, imageTag, table } from './output';

export interface ServiceStatus {
  readonly service: string;
  readonly ecsServiceName: string;
  readonly role: string;
  readonly taskDefinition: string;
  readonly revision: number;
  readonly image: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
  readonly rolloutState: string;
  readonly lastDeployment: {
    readonly outcome: string;
    readonly image?: string;
    readonly at: string;
    readonly requestedBy: string;
    readonly message?: string;
  } | null;
}

export async function fleetStatus(sandbox: Sandbox): Promise<ServiceStatus[]> {
  const { fleet, clients } = sandbox;
  const services = fleet.deployOrder.map((id) => fleet.services[id]).filter((s) => s !== undefined);
  const statuses: ServiceStatus[] = [];
  for (let i = 0; i < services.length; i += 10) {
    const batch = services.slice(i, i + 10);
    const described = await clients.ecs.send(new DescribeServicesCommand({ cluster: fleet.cluster, services: batch.map((s) => s.ecsServiceName) }));
    for (const service of batch) {
      const ecs = described.services?.find((s) => s.serviceName === service.ecsServiceName);
      const primary = ecs?.deployments?.find((d) => d.status === 'PRIMARY');
      const taskDefinitionArn = primary?.taskDefinition ?? ecs?.taskDefinition ?? '';
      const definition = taskDefinitionArn
        ? (await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }))).taskDefinition
        : undefined;
      const image = definition?.containerDefinitions?.find((c) => c.name === service.container)?.image ?? 'unknown';
      const trail = await readAuditTrail(sandbox, { subject: service.id, limit: 50 });
      const last = trail.find((r) => r.action === 'deploy' && r.phase === 'outcome');
      statuses.push({
        service: service.id,
        ecsServiceName: service.ecsServiceName,
        role: service.role,
        taskDefinition: taskDefinitionArn,
        revision: definition?.revision ?? 0,
        image,
        desiredCount: ecs?.desiredCount ?? 0,
        runningCount: ecs?.runningCount ?? 0,
        pendingCount: ecs?.pendingCount ?? 0,
        rolloutState: primary?.rolloutState ?? 'UNKNOWN',
        lastDeployment: last ? describeLastDeployment(last) : null,
      });
    }
  }
  return statuses;
}

function describeLastDeployment(record: AuditRecord): NonNullable<ServiceStatus['lastDeployment']> {
  const after = (record.after ?? {}) as { status?: string; image?: string; message?: string };
  return {
    outcome: after.status ?? (record.status === 'succeeded' ? 'SUCCEEDED' : 'FAILED'),
    ...(after.image ? { image: after.image } : {}),
    at: record.at,
    requestedBy: record.actor,
    ...(after.message ? { message: after.message } : record.error ? { message: record.error.message } : {}),
  };
}

export function printStatus(statuses: readonly ServiceStatus[], output: Output): void {
  const rows = statuses.map((s) => [
    s.service,
    s.role,
    `${s.ecsServiceName}:${s.revision}`,
    imageTag(s.image),
    `${s.runningCount}/${s.desiredCount}`,
    s.rolloutState,
    s.lastDeployment ? `${s.lastDeployment.outcome} ${s.lastDeployment.image ? imageTag(s.lastDeployment.image) : ''} ${s.lastDeployment.at.slice(11, 19)}`.trim() : '-',
  ]);
  table(['SERVICE', 'ROLE', 'REVISION', 'IMAGE', 'RUNNING', 'ROLLOUT', 'LAST DEPLOY'], rows).forEach((l) => output.line(l));
}

export interface FleetHealth {
  readonly status: HealthStatus;
  readonly services: readonly HealthReport[];
}

export async function fleetHealth(sandbox: Sandbox, only?: string): Promise<FleetHealth> {
  const ids = only ? [only] : sandbox.fleet.deployOrder;
  const reports: HealthReport[] = [];
  for (const id of ids) {
    const service = sandbox.fleet.services[id];
    if (!service) throw new UnknownServiceError(id, Object.keys(sandbox.fleet.services));
    reports.push(
      await assessServiceHealth(
        { clients: sandbox.clients, http: sandbox.http },
        {
          service: id,
          cluster: sandbox.fleet.cluster,
          ecsServiceName: service.ecsServiceName,
          rollbackAlarmNames: service.rollbackAlarms.map((a) => a.name),
          ...(service.health.http ? { http: service.health.http } : {}),
        },
      ),
    );
  }
  const status: HealthStatus = reports.some((r) => r.status === 'UNHEALTHY')
    ? 'UNHEALTHY'
    : reports.some((r) => r.status === 'DEGRADED')
      ? 'DEGRADED'
      : 'HEALTHY';
  return { status, services: reports };
}

export function printHealth(health: FleetHealth, output: Output): void {
  output.line(`Fleet: ${health.status}`);
  for (const report of health.services) {
    output.line(`  ${report.service}: ${report.status}`);
    for (const check of report.checks) output.line(`    ${check.status.padEnd(8)} ${check.name.padEnd(13)} ${check.evidence}`);
  }
}

export async function auditHistory(sandbox: Sandbox, subject: string | undefined, limit: number): Promise<AuditRecord[]> {
  if (subject && !sandbox.fleet.services[subject] && subject !== 'fleet') {
    throw new UnknownServiceError(subject, Object.keys(sandbox.fleet.services));
  }
  return readAuditTrail(sandbox, { ...(subject ? { subject } : {}), limit });
}

export function printHistory(records: readonly AuditRecord[], output: Output): void {
  const rows = records.map((r) => [
    r.at.replace('T', ' ').slice(0, 19),
    r.subject,
    r.action,
    r.phase === 'intent' ? 'intent' : r.status,
    r.actor,
    (r.error ? `${r.error.name}: ${r.error.message}` : r.reason ?? '').slice(0, 100),
  ]);
  table(['TIME', 'SUBJECT', 'ACTION', 'RECORD', 'ACTOR', 'DETAIL'], rows).forEach((l) => output.line(l));
}

export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
  constructor(service: string, known: readonly string[]) {
    super(`service: ${service} is not in the fleet (known: ${known.join(', ')})`);
  }
}
