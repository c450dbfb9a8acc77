/**
 * `assure health [service]`: the deep health report per service and for the
 * fleet (HEALTHY, DEGRADED or UNHEALTHY, with evidence); exit failed unless HEALTHY.
 */
import type { Command } from 'commander';
import { assessServiceHealth, type HealthReport, type HealthStatus } from '../../../functions/shared/domain/service-health';
import type { Sandbox } from '../../sandbox/sandbox';
import type { CommandContext } from '../command-context';
import { UnknownServiceError } from '../errors';
import { EXIT } from '../exit-codes';
import type { Output } from '../output';
import { withSandbox } from '../sandbox-session';

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

export function addHealthCommand(program: Command, context: CommandContext): void {
  program
    .command('health')
    .description('deep health report per service and for the fleet: HEALTHY, DEGRADED or UNHEALTHY with evidence')
    .argument('[service]', 'one service only')
    .action(async (service?: string) => {
      const health = await withSandbox(context.globals(), (sandbox) => fleetHealth(sandbox, service), { save: false });
      if (context.globals().json) context.output.line(JSON.stringify(health, null, 2));
      else printHealth(health, context.output);
      if (health.status !== 'HEALTHY') context.exit(EXIT.failed);
    });
}
