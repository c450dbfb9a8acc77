/**
 * `assure scale status`: per scaling service its desired/running counts,
 * bounds, cooldowns remaining, last decision with its reason, and next
 * scheduled change.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Command } from 'commander';
import { lastScalingDecisionKey, SCALE_DIRECTIONS, type ScaleDirection, scalingCooldownKey } from '../../../functions/shared/domain/scaling';
import type { Sandbox } from '../../sandbox/sandbox';
import { scaleSchedules } from '../../workflows/scale-workflow';
import type { CommandContext } from '../command-context';
import { duration, type Output, table } from '../output';
import { withSandbox } from '../sandbox-session';

export interface ScaleStatus {
  readonly service: string;
  readonly desired: number;
  readonly running: number;
  readonly min: number;
  readonly max: number;
  /** Seconds left of each direction's cooldown (0: none). */
  readonly cooldownSeconds: Readonly<Record<ScaleDirection, number>>;
  readonly lastDecision?: { readonly outcome: string; readonly message: string; readonly at: string; readonly source: string };
  readonly nextScheduled?: { readonly name: string; readonly at: string; readonly desired: number };
}

export async function scaleStatus(sandbox: Sandbox): Promise<ScaleStatus[]> {
  const { fleet, clients, config } = sandbox;
  const services = Object.values(fleet.services).filter((s) => s.scaling);
  if (services.length === 0) return [];
  const described = await clients.ecs.send(new DescribeServicesCommand({ cluster: fleet.cluster, services: services.map((s) => s.ecsServiceName) }));
  const item = async (pk: string): Promise<Record<string, unknown> | undefined> => {
    const result = await clients.dynamodb.send(new GetItemCommand({ TableName: config.stateTableName, Key: marshall({ pk }), ConsistentRead: true }));
    return result.Item ? unmarshall(result.Item) : undefined;
  };
  const now = sandbox.clock.now();
  const schedules = scaleSchedules(fleet);
  const rows: ScaleStatus[] = [];
  for (const service of services) {
    const ecs = described.services?.find((s) => s.serviceName === service.ecsServiceName);
    const cooldownSeconds = { 'scale-out': 0, 'scale-in': 0 };
    for (const direction of SCALE_DIRECTIONS) {
      const until = Date.parse(String((await item(scalingCooldownKey(service.id, direction)))?.until ?? ''));
      cooldownSeconds[direction] = Number.isFinite(until) ? Math.max(0, Math.ceil((until - now) / 1000)) : 0;
    }
    const last = await item(lastScalingDecisionKey(service.id));
    const next = schedules
      .filter((s) => s.service === service.id)
      .map((s) => ({ name: s.entry, at: sandbox.scheduler.nextFireTime(s.name, now), desired: s.desired }))
      .filter((s): s is { name: string; at: number; desired: number } => s.at !== undefined)
      .sort((a, b) => a.at - b.at)[0];
    rows.push({
      service: service.id,
      desired: ecs?.desiredCount ?? 0,
      running: ecs?.runningCount ?? 0,
      min: service.capacity.min,
      max: service.capacity.max,
      cooldownSeconds,
      ...(last ? { lastDecision: { outcome: String(last.outcome), message: String(last.message), at: String(last.at), source: String(last.source) } } : {}),
      ...(next ? { nextScheduled: { name: next.name, at: new Date(next.at).toISOString(), desired: next.desired } } : {}),
    });
  }
  return rows;
}

export function printScaleStatus(rows: readonly ScaleStatus[], output: Output, json: boolean): void {
  if (json) {
    output.line(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    output.line('No service in the fleet file has a scaling policy.');
    return;
  }
  const cooldown = (s: number): string => (s > 0 ? duration(s * 1000) : '-');
  for (const line of table(
    ['SERVICE', 'DESIRED', 'RUNNING', 'MIN', 'MAX', 'OUT COOLDOWN', 'IN COOLDOWN', 'NEXT SCHEDULED'],
    rows.map((r) => [
      r.service,
      String(r.desired),
      String(r.running),
      String(r.min),
      String(r.max),
      cooldown(r.cooldownSeconds['scale-out']),
      cooldown(r.cooldownSeconds['scale-in']),
      r.nextScheduled ? `${r.nextScheduled.name} → ${r.nextScheduled.desired} at ${r.nextScheduled.at.replace('T', ' ').slice(0, 16)} UTC` : '-',
    ]),
  )) {
    output.line(line);
  }
  for (const r of rows) {
    output.line(
      `${r.service} last decision: ${r.lastDecision ? `${r.lastDecision.outcome} (${r.lastDecision.source}, ${r.lastDecision.at}): ${r.lastDecision.message}` : 'none yet'}`,
    );
  }
}

/** Adds `status` under `scale`. */
export function addScaleStatusCommand(scale: Command, context: CommandContext): void {
  scale
    .command('status')
    .description('per scaling service: desired/running, min/max, cooldowns left, the last decision and why, the next scheduled change')
    .action(async () => {
      const rows = await withSandbox(context.globals(), scaleStatus, { save: false });
      printScaleStatus(rows, context.output, context.globals().json);
    });
}
