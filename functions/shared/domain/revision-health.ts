/**
 * The deep health gate on one service revision's tasks only (blue/green, canary and
 * linear run two revisions side by side): every task of the revision's task
 * definition is RUNNING and answers 200 on the service's HTTP health endpoint.
 */
import { describeServiceTasks, privateIp, taskId } from './ecs-tasks';
import type { HandlerDeps } from '../runtime/handler';

export interface RevisionHealth {
  /** STARTING: fewer tasks of the revision are running than it asks for. */
  readonly status: 'HEALTHY' | 'UNHEALTHY' | 'STARTING';
  readonly taskDefinitionArn: string;
  readonly running: number;
  readonly expected: number;
  readonly healthy: number;
  readonly evidence: string;
}

export async function assessRevisionHealth(
  deps: Pick<HandlerDeps<'ecs'>, 'clients' | 'http'>,
  target: {
    readonly cluster: string;
    readonly ecsServiceName: string;
    readonly taskDefinitionArn: string;
    /** The revision's requested task count (ECS's targetServiceRevision.requestedTaskCount). */
    readonly expectedTasks: number;
    readonly http?: { readonly path: string; readonly port: number; readonly timeoutMs: number } | undefined;
  },
): Promise<RevisionHealth> {
  const tasks = (await describeServiceTasks(deps, target.cluster, target.ecsServiceName, 'RUNNING')).filter(
    (t) => t.taskDefinitionArn === target.taskDefinitionArn,
  );
  const running = tasks.filter((t) => t.lastStatus === 'RUNNING');
  const common = { taskDefinitionArn: target.taskDefinitionArn, running: running.length, expected: target.expectedTasks };
  const revision = target.taskDefinitionArn.split('/').pop() ?? target.taskDefinitionArn;
  if (running.length === 0 || running.length < target.expectedTasks) {
    return { ...common, status: 'STARTING', healthy: 0, evidence: `${running.length}/${target.expectedTasks} task(s) of ${revision} running` };
  }
  const http = target.http;
  if (!http) {
    return {
      ...common,
      status: 'HEALTHY',
      healthy: running.length,
      evidence: `${running.length} task(s) of ${revision} running; no HTTP health endpoint configured`,
    };
  }
  const results = await Promise.all(
    running.map(async (task) => {
      const ip = privateIp(task);
      if (!ip) return { ok: false, detail: `${taskId(task)}: no private IP` };
      try {
        const response = await deps.http({ method: 'GET', url: `http://${ip}:${http.port}${http.path}`, timeoutMs: http.timeoutMs });
        return { ok: response.status === 200, detail: `${taskId(task)} (${ip}): ${response.status} ${response.body.slice(0, 120)}` };
      } catch (error) {
        return { ok: false, detail: `${taskId(task)} (${ip}): ${(error as Error).message}` };
      }
    }),
  );
  const healthy = results.filter((r) => r.ok).length;
  const failures = results.filter((r) => !r.ok).map((r) => r.detail);
  return {
    ...common,
    status: healthy === running.length ? 'HEALTHY' : 'UNHEALTHY',
    healthy,
    evidence: `${healthy}/${running.length} task(s) of ${revision} answer 200 on ${http.path}${failures.length > 0 ? `; ${failures.slice(0, 3).join('; ')}` : ''}`,
  };
}
