/**
 * The daily report's data: what `assure report` gathers from the audit trail,
 * Step Functions history and CloudWatch, and what its text, JSON and HTML views
 * render. Times are ISO-8601 strings (virtual time in the sandbox).
 */

export interface DoraMeasures {
  /** Deployments that reached production (succeeded, rolled back or failed). */
  readonly deployments: number;
  /** Of those, the ones that failed (rolled back or failed). */
  readonly failedChanges: number;
  /** Successful deployments per day over the window. */
  readonly deploymentsPerDay: number;
  /** Median push-or-request → traffic fully on the new revision; null when nothing succeeded. */
  readonly leadTimeSecondsP50: number | null;
  /** failedChanges / deployments, 0..1; null when nothing was deployed. */
  readonly changeFailureRate: number | null;
  /** Median failure detected → previous revision healthy; null when nothing was restored. */
  readonly timeToRestoreSecondsP50: number | null;
}

export interface DoraReport {
  readonly fleet: DoraMeasures;
  readonly services: Readonly<Record<string, DoraMeasures>>;
  /** One entry per day of the window (UTC days), oldest first: the trend. */
  readonly daily: readonly { readonly day: string; readonly fleet: DoraMeasures }[];
}

export interface TimePoint {
  readonly at: string;
  readonly value: number;
}

/** One release's story against time: what the HTML page draws. */
export interface ReleaseTimeline {
  readonly releaseId: string;
  readonly services: readonly string[];
  /** rolling, canary, linear, blue-green (the fleet strategy's type), or `fleet` for a multi-service release. */
  readonly strategy: string;
  readonly outcome: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  /** Share of production requests (0..100) per revision, e.g. `order-gateway:41`. */
  readonly traffic: readonly { readonly revision: string; readonly points: readonly TimePoint[] }[];
  /** Running (healthy) tasks per revision, or per service when revisions share a target group. */
  readonly runningTasks: readonly { readonly label: string; readonly points: readonly TimePoint[] }[];
  /** Each alarm that matters to the release and its state transitions in the window. */
  readonly alarms: readonly {
    readonly alarmName: string;
    readonly transitions: readonly { readonly at: string; readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' }[];
  }[];
  /** The state machine's steps: each state entered, in order. */
  readonly steps: readonly { readonly at: string; readonly name: string }[];
}

export interface DailyReport {
  readonly environment: string;
  readonly generatedAt: string;
  readonly since: string;
  readonly until: string;
  readonly trading: { readonly state: 'TRADING' | 'HALTED' | 'UNKNOWN'; readonly since?: string; readonly by?: string; readonly reason?: string };
  readonly releases: readonly {
    readonly releaseId: string;
    readonly services: readonly string[];
    readonly strategy: string;
    readonly requestedBy: string;
    readonly startedAt: string;
    readonly outcome: string;
    readonly reason?: string;
  }[];
  readonly deployments: readonly {
    readonly service: string;
    readonly executionId: string;
    readonly image?: string;
    readonly requestedBy: string;
    readonly at: string;
    readonly outcome: string;
  }[];
  readonly rollbacks: readonly {
    readonly service: string;
    readonly at: string;
    readonly cause: string;
    readonly executionId: string;
    readonly reason?: string;
  }[];
  readonly halts: readonly { readonly at: string; readonly by: string; readonly reason?: string; readonly verifiedSeconds: number | null }[];
  readonly rotations: readonly { readonly secret: string; readonly at: string; readonly outcome: string; readonly by: string }[];
  readonly scaling: readonly { readonly service: string; readonly at: string; readonly decision: string; readonly detail?: string }[];
  readonly refusals: readonly { readonly at: string; readonly subject: string; readonly action: string; readonly reason: string }[];
  readonly dora: DoraReport;
  readonly timelines: readonly ReleaseTimeline[];
}
