/**
 * The simulated applications inside the tasks: how a task running a given image
 * behaves (does it start, does it pass the load balancer's health check, what
 * does its deep health endpoint answer, what metrics does it publish). An image
 * behaves `healthy` unless `assure sandbox image <ref> --behaviour ...` says otherwise.
 */

export const IMAGE_BEHAVIOURS = [
  'healthy',
  'crash-on-start',
  'failing-health-check',
  'high-error-rate',
  'slow-start',
  'rejecting-orders',
  'ignores-halt',
] as const;
export type ImageBehaviour = (typeof IMAGE_BEHAVIOURS)[number];

export const BEHAVIOUR_DESCRIPTIONS: Record<ImageBehaviour, string> = {
  healthy: 'starts, passes every health check, publishes normal metrics',
  'crash-on-start': 'the essential container exits with code 1 a few seconds after it starts',
  'failing-health-check': 'runs and passes the load balancer check, but its deep health endpoint answers 503 (a dependency is down)',
  'high-error-rate': 'healthy at first; under production load from 3 minutes after start, 25% of requests fail',
  'slow-start': 'healthy, but its container takes 10 minutes to start (a huge image pull or a long warm-up)',
  'rejecting-orders': 'healthy, but the venue rejects 15% of its orders (a malformed order field)',
  'ignores-halt': 'healthy, but its halt is broken: it acknowledges /admin/halt, ignores the halt flag and keeps trading',
};

/** How long a slow-start container takes from PENDING to RUNNING. */
export const SLOW_START_MS = 10 * 60_000;

/** When a high-error-rate release starts failing requests, measured from its task's start. */
export const ERROR_ONSET_MS = 180_000;

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export class ImageCatalogue {
  private readonly behaviours = new Map<string, ImageBehaviour>();

  set(image: string, behaviour: ImageBehaviour): void {
    this.behaviours.set(image, behaviour);
  }

  behaviourOf(image: string): ImageBehaviour {
    return this.behaviours.get(image) ?? 'healthy';
  }

  entries(): [string, ImageBehaviour][] {
    return [...this.behaviours];
  }
}

/** Does a container of this behaviour stay up once started? */
export const crashesOnStart = (behaviour: ImageBehaviour): boolean => behaviour === 'crash-on-start';

/** Extra start-up time beyond a typical image pull and container start. */
export const extraStartMs = (behaviour: ImageBehaviour): number => (behaviour === 'slow-start' ? SLOW_START_MS : 0);

/** The answer of the application's health endpoints. */
export function answerHttp(behaviour: ImageBehaviour, path: string): HttpAnswer {
  if (!path.startsWith('/health')) return { status: 404, body: '{"error":"not found"}' };
  if (behaviour === 'failing-health-check') {
    return {
      status: 503,
      body: JSON.stringify({ status: 'unhealthy', checks: { 'venue-session': 'down: logon rejected', 'risk-limits': 'loaded', database: 'ok' } }),
    };
  }
  return { status: 200, body: JSON.stringify({ status: 'ok', checks: { 'venue-session': 'up', 'risk-limits': 'loaded', database: 'ok' } }) };
}

/**
 * Whether a container health-check command (the task definition's `healthCheck.command`) passes in a container of
 * this behaviour. The sandbox runs no commands: a probe of an HTTP URL passes when the application answers that path
 * with a status below 400 (`curl -f`/`--fail` and `wget` fail on 4xx/5xx; plain `curl` passes on any answer); a
 * command that is only `exit 1` fails; any other command passes.
 */
export function containerHealthCommandPasses(behaviour: ImageBehaviour, command: readonly string[]): boolean {
  const line = command.slice(command[0] === 'CMD' || command[0] === 'CMD-SHELL' ? 1 : 0).join(' ');
  const url = /https?:\/\/[^\s/'"|;&]+(\/[^\s'"|;&]*)?/.exec(line);
  if (url) {
    const failsOnError = /\bwget\b/.test(line) || /\bcurl\b[^|;&]*\s(-f|--fail|-[a-zA-Z]*f[a-zA-Z]*)\b/.test(line);
    return !failsOnError || answerHttp(behaviour, url[1] ?? '/').status < 400;
  }
  return !/^\s*exit\s+[1-9]\d*\s*$/.test(line);
}

/** A service's CPU demand at rest: half of its desired tasks' CPU (50 % utilisation at the fleet file's desired count). */
export const RESTING_DEMAND_PER_DESIRED_TASK = 0.5;

/**
 * The load on each service, in tasks' worth of CPU (a sandbox knob: `sandbox.load.set('order-gateway', 3.4)`).
 * The service's tasks share it, so ECS's CPUUtilization falls as tasks are added: scaling out relieves it.
 */
export class ServiceLoad {
  private readonly demand = new Map<string, number>();

  set(serviceId: string, tasksOfCpu: number): void {
    if (!(tasksOfCpu >= 0)) throw new Error(`Load must be a non-negative number of tasks' CPU, not ${tasksOfCpu}`);
    this.demand.set(serviceId, tasksOfCpu);
  }

  reset(serviceId?: string): void {
    if (serviceId) this.demand.delete(serviceId);
    else this.demand.clear();
  }

  /** Tasks' worth of CPU the service must serve; `restingDesired × 0.5` unless set. */
  demandOf(serviceId: string, restingDesired: number): number {
    return this.demand.get(serviceId) ?? restingDesired * RESTING_DEMAND_PER_DESIRED_TASK;
  }

  /** Each serving task's CPU utilisation (%): the demand shared by the tasks, at most 100. */
  cpuPerTask(serviceId: string, restingDesired: number, servingTasks: number): number {
    if (servingTasks <= 0) return 0;
    return Math.min(100, Number(((this.demandOf(serviceId, restingDesired) * 100) / servingTasks).toFixed(3)));
  }
}

/** What a task's share of its service's load is, for the metrics that depend on it. */
export interface TaskLoad {
  readonly cpuPercent: number;
}

/**
 * The metrics an application publishes, by metric name, from one task serving
 * traffic. Unknown metric names are not published (the alarm sees missing data).
 * `CPUUtilization` is ECS's own service metric (AWS/ECS), from the task's share of the load.
 */
export function metricSample(metricName: string, behaviour: ImageBehaviour, runningForMs: number, halted: boolean, load?: TaskLoad): number | undefined {
  switch (metricName) {
    case 'CPUUtilization':
      return load?.cpuPercent;
    case 'ErrorRate':
      return behaviour === 'high-error-rate' && runningForMs >= ERROR_ONSET_MS ? 25 : 0.2;
    case 'LatencyP99':
      return 0.8;
    case 'OrderRejectRate':
      // A halted service sends no orders, so nothing is rejected: no datapoint.
      if (halted) return undefined;
      return behaviour === 'rejecting-orders' ? 15 : 0.4;
    case 'OrdersPerSecond':
      return halted ? 0 : 30;
    case 'DailyPnL':
      return 185_000;
    case 'ExchangeConnected':
      return 1;
    case 'PositionLagSeconds':
      return 2;
    default:
      return undefined;
  }
}

/** How several tasks' samples combine into one datapoint. */
export function combineSamples(metricName: string, samples: readonly number[], requestShares?: readonly number[]): number {
  if (metricName.startsWith('Latency') || metricName.endsWith('LagSeconds') || metricName === 'DailyPnL') return Math.max(...samples);
  if (metricName === 'OrdersPerSecond') return samples.reduce((a, b) => a + b, 0);
  if (metricName === 'ExchangeConnected') return Math.min(...samples);
  // A rate over the service's requests: each task counts by the share of the requests it serves
  // (a 5 % canary's tasks weigh 5 % together, however many of them run).
  const total = requestShares?.reduce((a, b) => a + b, 0) ?? 0;
  if (requestShares && requestShares.length === samples.length && total > 0) {
    return samples.reduce((sum, value, i) => sum + value * (requestShares[i] ?? 0), 0) / total;
  }
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

/**
 * The production requests one service's load balancer sends it per minute, at rest (every
 * service alike): 100 requests a second, so that even a 5 % canary serves 300 a minute and
 * its p99 response time rests on as many requests as the stable revision's (see the
 * response-time reservoir in target-group-metrics.ts). Per-target-group metrics divide them
 * by the production listener rule's weights.
 */
export const PRODUCTION_REQUESTS_PER_MINUTE = 6000;

/** The requests per minute reaching the test listener rule's target group while a revision is under test. */
export const TEST_REQUESTS_PER_MINUTE = 600;

/** The share of a task's requests that fail with an HTTP 5xx from the application (ALB's HTTPCode_Target_5XX_Count). */
export function requestErrorRate(behaviour: ImageBehaviour, runningForMs: number): number {
  // A high-error-rate release fails a quarter of its requests from ERROR_ONSET_MS after its task starts (the
  // same onset as its ErrorRate metric); every other image, a failing deep health check included, serves
  // its load-balancer traffic normally: a background 0.2 %.
  return behaviour === 'high-error-rate' && runningForMs >= ERROR_ONSET_MS ? 0.25 : 0.002;
}

/**
 * One request's response time in seconds (what ALB's TargetResponseTime records), from a uniform draw
 * `u` in (0, 1): log-logistic around 55 ms (p50 55 ms, p99 about 100 ms), a smooth tail so that a
 * percentile of a few dozen requests and of a few hundred tell the same story. Failing requests of a
 * high-error-rate release wait on a timed-out dependency: 1.2–2 s.
 */
export function responseTimeSeconds(behaviour: ImageBehaviour, failed: boolean, u: number): number {
  const p = Math.min(Math.max(u, 1e-6), 1 - 1e-6);
  const seconds = failed && behaviour === 'high-error-rate' ? 1.2 + 0.8 * p : 0.055 * Math.exp(0.13 * Math.log(p / (1 - p)));
  return Number(seconds.toFixed(4));
}
