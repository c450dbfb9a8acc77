/**
 * Production exposure of a release: the integral over time of the share of a
 * service's production traffic that a bad revision serves, in traffic-seconds
 * (100 % for one second is one traffic-second). The demo prints it and the
 * benchmark compares strategies with it.
 *
 * It follows the sandbox's traffic as ECS shifts it (every listener-rule
 * change) and samples once a virtual second as well, because a rolling
 * deployment moves traffic by replacing tasks, not by changing weights.
 */
import type { Sandbox } from '../sandbox/sandbox';

export interface Exposure {
  /** ∫ share of production traffic on the revisions `isExposed` names, dt, in traffic-seconds. */
  readonly trafficSeconds: number;
  /** The largest share of production traffic they served at once, in percent. */
  readonly peakPercent: number;
  /** When they first and last served production traffic (virtual epoch ms), if ever. */
  readonly firstExposedAt?: number;
  readonly lastExposedAt?: number;
  /** When production traffic was last seen entirely back on other revisions after being exposed. */
  readonly restoredAt?: number;
}

export interface ExposureMeter {
  /** Stops measuring and returns the exposure so far. */
  stop(): Exposure;
}

const SAMPLE_MS = 1_000;

/** Measures, from now until `stop()`, the production exposure of `serviceId`'s revisions whose image `isExposed` accepts. */
export function measureExposure(
  sandbox: Pick<Sandbox, 'traffic' | 'onTrafficChange'>,
  serviceId: string,
  isExposed: (image: string) => boolean,
): ExposureMeter {
  const share = (): number =>
    sandbox
      .traffic(serviceId)
      .revisions.filter((r) => isExposed(r.image))
      .reduce((sum, r) => sum + r.productionWeight, 0);
  let last = { at: Date.now(), percent: share() };
  let trafficSeconds = 0;
  let peakPercent = last.percent;
  let firstExposedAt: number | undefined = last.percent > 0 ? last.at : undefined;
  let lastExposedAt = firstExposedAt;
  let restoredAt: number | undefined;
  const observe = (): void => {
    const now = Date.now();
    trafficSeconds += ((now - last.at) / 1000) * (last.percent / 100);
    const percent = share();
    if (percent > 0) {
      firstExposedAt ??= now;
      lastExposedAt = now;
      restoredAt = undefined;
    } else if (last.percent > 0) restoredAt = now;
    peakPercent = Math.max(peakPercent, percent);
    last = { at: now, percent };
  };
  const unsubscribe = sandbox.onTrafficChange((id) => {
    if (id === serviceId) observe();
  });
  const timer = setInterval(observe, SAMPLE_MS);
  return {
    stop: (): Exposure => {
      observe();
      clearInterval(timer);
      unsubscribe();
      return {
        trafficSeconds,
        peakPercent,
        ...(firstExposedAt === undefined ? {} : { firstExposedAt }),
        ...(lastExposedAt === undefined ? {} : { lastExposedAt }),
        ...(restoredAt === undefined ? {} : { restoredAt }),
      };
    },
  };
}

/** `0.0 traffic-seconds (never served production traffic)` or `12.6 traffic-seconds, at most 5 % of production traffic for 4 min 12 s`. */
export function describeExposure(exposure: Exposure): string {
  if (exposure.firstExposedAt === undefined) return '0 traffic-seconds: no production order ever reached the bad revision';
  const span = Math.round(((exposure.restoredAt ?? exposure.lastExposedAt ?? exposure.firstExposedAt) - exposure.firstExposedAt) / 1000);
  const duration = span >= 60 ? `${Math.floor(span / 60)} min ${span % 60} s` : `${span} s`;
  return `${exposure.trafficSeconds.toFixed(1)} traffic-seconds: at most ${exposure.peakPercent} % of production traffic, for ${duration}`;
}
