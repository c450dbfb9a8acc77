/**
 * A deep health assessment of one ECS service, with every check and its evidence.
 * The deploy health gate passes only on HEALTHY; the health report shows the rest.
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { describeServiceTasks, privateIp } from './ecs-tasks';
import type { HandlerDeps } from '../runtime/handler';

export type CheckStatus = 'pass' | 'degraded' | 'fail' | 'skipped';
export type HealthStatus = 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY';

export interface HealthCheck {
  readonly name: 'rollout' | 'capacity' | 'stopped-tasks' | 'alarms' | 'http';
  readonly status: CheckStatus;
  readonly evidence: string;
}

export interface HealthReport {
  readonly service: string;
  readonly status: HealthStatus;
  readonly taskDefinitionArn?: string;
  readonly checkedAt: string;
  readonly checks: readonly HealthCheck[];
}

export interface HealthTarget {
  readonly service: string;
  readonly cluster: string;
  readonly ecsServiceName: string;
  readonly rollbackAlarmNames: readonly string[];
  readonly http?: { readonly path: string; readonly port: number; readonly timeoutMs: number };
  /** When set, the service must run exactly this revision. */
  readonly expectedTaskDefinitionArn?: string;
  /** Task failures since this time count against the service (default: the last 15 minutes). */
  readonly since?: string;
}

type HealthDeps = Pick<HandlerDeps<'ecs' | 'cloudwatch'>, 'clients' | 'http'>;

/** Stop codes that mean the task failed, rather than being replaced or scaled in on purpose. */
const FAILURE_STOP_CODES = new Set(['TaskFailedToStart', 'EssentialContainerExited']);

export function overallStatus(checks: readonly HealthCheck[]): HealthStatus {
  if (checks.some((c) => c.status === 'fail')) return 'UNHEALTHY';
  if (checks.some((c) => c.status === 'degraded')) return 'DEGRADED';
  return 'HEALTHY';
}

export function describeFailedChecks(report: HealthReport): string {
  return report.checks
    .filter((c) => c.status === 'fail' || c.status === 'degraded')
    .map((c) => `${c.name} ${c.status}: ${c.evidence}`)
    .join('; ');
}

export async function assessServiceHealth(deps: HealthDeps, target: HealthTarget): Promise<HealthReport> {
  const checkedAt = new Date();
  const checks: HealthCheck[] = [];
  const described = await deps.clients.ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [target.ecsServiceName] }));
  const service = described.services?.[0];
  if (!service || service.status !== 'ACTIVE') {
    return {
      service: target.service,
      status: 'UNHEALTHY',
      checkedAt: checkedAt.toISOString(),
      checks: [{ name: 'rollout', status: 'fail', evidence: `ECS service ${target.ecsServiceName} not found or not ACTIVE` }],
    };
  }
  const deployments = service.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  const taskDefinitionArn = primary?.taskDefinition;
  const revision = taskDefinitionArn?.split('/').pop() ?? 'unknown';

  // Rollout: one deployment, COMPLETED, on the expected revision.
  if (!primary) {
    checks.push({ name: 'rollout', status: 'fail', evidence: 'no PRIMARY deployment' });
  } else if (target.expectedTaskDefinitionArn && taskDefinitionArn !== target.expectedTaskDefinitionArn) {
    checks.push({
      name: 'rollout',
      status: 'fail',
      evidence: `running ${revision}, expected ${target.expectedTaskDefinitionArn.split('/').pop() ?? ''}`,
    });
  } else if (primary.rolloutState !== 'COMPLETED' || deployments.length > 1) {
    checks.push({
      name: 'rollout',
      status: primary.rolloutState === 'FAILED' ? 'fail' : 'degraded',
      evidence: `deployment ${primary.id ?? '?'} ${primary.rolloutState ?? 'unknown'}${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ''}; ${deployments.length} deployment(s)`,
    });
  } else {
    checks.push({ name: 'rollout', status: 'pass', evidence: `deployment ${primary.id ?? '?'} COMPLETED on ${revision}` });
  }

  // Capacity: running = desired.
  const running = service.runningCount ?? 0;
  const desired = service.desiredCount ?? 0;
  checks.push({
    name: 'capacity',
    status: running === desired ? 'pass' : running === 0 ? 'fail' : 'degraded',
    evidence: `${running}/${desired} tasks running${service.pendingCount ? `, ${service.pendingCount} pending` : ''}`,
  });

  // Stopped tasks of this revision that failed since the window started.
  const since = target.since ? Date.parse(target.since) : checkedAt.getTime() - 15 * 60_000;
  const stopped = (await describeServiceTasks(deps, target.cluster, target.ecsServiceName, 'STOPPED')).filter(
    (t) =>
      (!taskDefinitionArn || t.taskDefinitionArn === taskDefinitionArn) && FAILURE_STOP_CODES.has(t.stopCode ?? '') && (t.stoppedAt?.getTime() ?? 0) >= since,
  );
  checks.push(
    stopped.length === 0
      ? { name: 'stopped-tasks', status: 'pass', evidence: `no failed tasks of ${revision} since ${new Date(since).toISOString()}` }
      : {
          name: 'stopped-tasks',
          status: 'degraded',
          evidence: `${stopped.length} failed task(s) of ${revision}: ${stopped
            .slice(0, 5)
            .map((t) => `${t.taskArn?.split('/').pop() ?? '?'} ${t.stopCode ?? ''} "${t.stoppedReason ?? ''}"`)
            .join(', ')}`,
        },
  );

  // Rollback alarms: all OK. INSUFFICIENT_DATA is not proof of health.
  if (target.rollbackAlarmNames.length === 0) {
    checks.push({ name: 'alarms', status: 'skipped', evidence: 'no rollback alarms configured' });
  } else {
    const alarms = await deps.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [...target.rollbackAlarmNames] }));
    const states = new Map((alarms.MetricAlarms ?? []).map((a) => [a.AlarmName ?? '', a.StateValue ?? 'UNKNOWN']));
    const missing = target.rollbackAlarmNames.filter((n) => !states.has(n));
    const inAlarm = target.rollbackAlarmNames.filter((n) => states.get(n) === 'ALARM');
    const noData = target.rollbackAlarmNames.filter((n) => states.get(n) === 'INSUFFICIENT_DATA');
    const status: CheckStatus = inAlarm.length > 0 || missing.length > 0 ? 'fail' : noData.length > 0 ? 'degraded' : 'pass';
    const evidence = [
      inAlarm.length > 0 ? `in ALARM: ${inAlarm.join(', ')}` : '',
      missing.length > 0 ? `not found: ${missing.join(', ')}` : '',
      noData.length > 0 ? `INSUFFICIENT_DATA: ${noData.join(', ')}` : '',
    ].filter(Boolean);
    checks.push({ name: 'alarms', status, evidence: evidence.join('; ') || `${target.rollbackAlarmNames.length} alarm(s) OK` });
  }

  // Deep HTTP health on every running task of the current revision.
  if (!target.http) {
    checks.push({ name: 'http', status: 'skipped', evidence: 'no HTTP health endpoint configured' });
  } else {
    const tasks = (await describeServiceTasks(deps, target.cluster, target.ecsServiceName, 'RUNNING')).filter(
      (t) => t.lastStatus === 'RUNNING' && (!taskDefinitionArn || t.taskDefinitionArn === taskDefinitionArn),
    );
    const http = target.http;
    const results = await Promise.all(
      tasks.map(async (task) => {
        const ip = privateIp(task);
        if (!ip) return { ok: false, detail: `${task.taskArn?.split('/').pop() ?? '?'}: no private IP` };
        const url = `http://${ip}:${http.port}${http.path}`;
        try {
          const response = await deps.http({ method: 'GET', url, timeoutMs: http.timeoutMs });
          return { ok: response.status === 200, detail: `${ip}: ${response.status} ${response.body.slice(0, 120)}` };
        } catch (error) {
          return { ok: false, detail: `${ip}: ${(error as Error).message}` };
        }
      }),
    );
    const healthy = results.filter((r) => r.ok).length;
    const failures = results.filter((r) => !r.ok).map((r) => r.detail);
    checks.push({
      name: 'http',
      status: tasks.length === 0 ? 'fail' : healthy === tasks.length ? 'pass' : healthy === 0 ? 'fail' : 'degraded',
      evidence: `${healthy}/${tasks.length} tasks answer 200 on ${http.path}${failures.length > 0 ? `; e.g. ${failures[0] ?? ''}` : ''}`,
    });
  }

  return {
    service: target.service,
    status: overallStatus(checks),
    ...(taskDefinitionArn ? { taskDefinitionArn } : {}),
    checkedAt: checkedAt.toISOString(),
    checks,
  };
}
