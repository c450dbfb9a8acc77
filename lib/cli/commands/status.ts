/**
 * `assure status`: trading or halted, executions in flight and approvals
 * waiting (fleet-activity.ts), then each service's revision, image, task counts
 * and last deployment, read through the same AWS APIs a CLI pointed at a real account
 * would call.
 */
import { DescribeTaskDefinitionCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { readAuditTrail, type AuditRecord } from '../../../functions/shared/domain/audit';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { type Output, imageTag, table } from '../output';
import { fleetActivity, printFleetActivity } from '../fleet-activity';
import { withSandbox } from '../sandbox-session';

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
      const last = trail.find(isDeployment);
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

/**
 * A deploy outcome that reached the service. A request refused before it changed
 * anything (invalid, or stopped by a guard: halted, locked, outside the window)
 * stays in the history as refused but is no deployment.
 */
export function isDeployment(record: AuditRecord): boolean {
  if (record.action !== 'deploy' || record.phase !== 'outcome') return false;
  if (record.error?.name === 'InvalidDeployRequestError') return false;
  return (record.after as { status?: unknown } | undefined)?.status !== 'REFUSED';
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
    s.lastDeployment
      ? `${s.lastDeployment.outcome} ${s.lastDeployment.image ? imageTag(s.lastDeployment.image) : ''} ${s.lastDeployment.at.slice(11, 19)}`.trim()
      : '-',
  ]);
  table(['SERVICE', 'ROLE', 'REVISION', 'IMAGE', 'RUNNING', 'ROLLOUT', 'LAST DEPLOY'], rows).forEach((l) => output.line(l));
}

export function addStatusCommand(program: Command, context: CommandContext): void {
  program
    .command('status')
    .description("trading or halted, executions in flight, approvals waiting, then each service's revision, image, task counts and last deployment")
    .action(async () => {
      const { activity, services } = await withSandbox(
        context.globals(),
        async (sandbox) => ({ activity: await fleetActivity(sandbox), services: await fleetStatus(sandbox) }),
        { save: false },
      );
      if (context.globals().json) context.output.line(JSON.stringify({ ...activity, services }, null, 2));
      else {
        printFleetActivity(activity, context.output);
        printStatus(services, context.output);
      }
    });
}
