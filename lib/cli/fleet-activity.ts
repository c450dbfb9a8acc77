/**
 * What `assure status` leads with: whether the fleet trades or is halted (and
 * since when, by whom, why, which services), the executions in flight and the
 * approvals waiting for a second person. Read through the APIs a CLI pointed at
 * a real account would call: SSM GetParameter, Step Functions ListExecutions and
 * GetExecutionHistory, DynamoDB Scan of the control-state table.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { readHaltFlag } from '../../functions/shared/domain/halt-flag';
import { approvalKey } from '../../functions/shared/domain/resume-plan';
import { tradingServices } from '../fleet/fleet-queries';
import type { Sandbox } from '../sandbox/sandbox';
import { type Output, table } from './output';

export type TradingState =
  | { readonly state: 'TRADING'; readonly lastHaltId?: string }
  | {
      readonly state: 'HALTED';
      readonly haltId: string;
      readonly since: string;
      readonly by: string;
      readonly reason: string;
      readonly services: readonly string[];
    }
  | { readonly state: 'UNKNOWN'; readonly problem: string };

export interface InFlightExecution {
  readonly workflow: string;
  readonly name: string;
  readonly startedAt: string;
  /** The state it is in now (the last one entered). */
  readonly currentState: string;
  readonly runningSeconds: number;
}

export interface WaitingApproval {
  readonly approvalId: string;
  readonly kind: 'resume' | 'release';
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly ageSeconds: number;
  /** When it can no longer be given. */
  readonly expiresAt: string;
}

export interface FleetActivity {
  readonly trading: TradingState;
  readonly inFlight: readonly InFlightExecution[];
  readonly approvals: readonly WaitingApproval[];
}

export async function fleetActivity(sandbox: Sandbox): Promise<FleetActivity> {
  return { trading: await tradingState(sandbox), inFlight: await inFlightExecutions(sandbox), approvals: await waitingApprovals(sandbox) };
}

async function tradingState(sandbox: Sandbox): Promise<TradingState> {
  const reading = await readHaltFlag(sandbox);
  if (!reading.readable) return { state: 'UNKNOWN', problem: reading.problem };
  const { flag } = reading;
  if (!flag.halted) return { state: 'TRADING', ...(flag.lastHaltId ? { lastHaltId: flag.lastHaltId } : {}) };
  return {
    state: 'HALTED',
    haltId: flag.haltId ?? '?',
    since: flag.at ?? '?',
    by: flag.actor ?? '?',
    reason: flag.reason ?? '?',
    services: flag.services ?? tradingServices(sandbox.fleet),
  };
}

async function inFlightExecutions(sandbox: Sandbox): Promise<InFlightExecution[]> {
  const now = Date.now();
  const running: InFlightExecution[] = [];
  for (const [workflow, stateMachineArn] of Object.entries(sandbox.stateMachines)) {
    let nextToken: string | undefined;
    do {
      const page = await sandbox.clients.sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', ...(nextToken ? { nextToken } : {}) }));
      for (const execution of page.executions ?? []) {
        const history = await sandbox.clients.sfn.send(
          new GetExecutionHistoryCommand({ executionArn: execution.executionArn, reverseOrder: true, maxResults: 100, includeExecutionData: false }),
        );
        const entered = history.events?.find((e) => e.stateEnteredEventDetails?.name !== undefined);
        const startedAt = execution.startDate ?? new Date(now);
        running.push({
          workflow,
          name: execution.name ?? '?',
          startedAt: startedAt.toISOString(),
          currentState: entered?.stateEnteredEventDetails?.name ?? '(starting)',
          runningSeconds: Math.max(0, Math.round((now - startedAt.getTime()) / 1000)),
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return running.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Resume and release approvals share one key prefix on the control-state table. */
const APPROVAL_PREFIX = approvalKey('');

async function waitingApprovals(sandbox: Sandbox): Promise<WaitingApproval[]> {
  const now = Date.now();
  const waiting: WaitingApproval[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await sandbox.clients.dynamodb.send(
      new ScanCommand({
        TableName: sandbox.config.stateTableName,
        FilterExpression: 'begins_with(pk, :approval) AND #status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':approval': { S: APPROVAL_PREFIX }, ':pending': { S: 'pending' } },
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey as never } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const approval = unmarshall(item) as Record<string, unknown>;
      const expiresAt = String(approval.kind === 'release' ? approval.deadline : approval.lapsesAt);
      // A lapsed approval can no longer be given: it waits for nobody.
      if (Date.parse(expiresAt) <= now) continue;
      const requestedAt = String(approval.requestedAt ?? '');
      waiting.push({
        approvalId: String(approval.pk).slice(APPROVAL_PREFIX.length),
        kind: approval.kind === 'release' ? 'release' : 'resume',
        requestedBy: String(approval.requestedBy ?? '?'),
        requestedAt,
        ageSeconds: Math.max(0, Math.round((now - Date.parse(requestedAt)) / 1000)),
        expiresAt,
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return waiting.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}

const duration = (seconds: number): string =>
  seconds < 120 ? `${seconds}s` : seconds < 7200 ? `${Math.round(seconds / 60)}m` : `${Math.floor(seconds / 3600)}h${Math.round((seconds % 3600) / 60)}m`;

export function printFleetActivity(activity: FleetActivity, output: Output): void {
  const { trading } = activity;
  if (trading.state === 'HALTED') {
    output.line(`Trading: HALTED since ${trading.since} by ${trading.by} (${trading.haltId}): ${trading.reason}`);
    output.line(`  halted services: ${trading.services.join(', ')}`);
  } else if (trading.state === 'TRADING') {
    output.line(`Trading: TRADING${trading.lastHaltId ? ` (last halt ${trading.lastHaltId}, resumed)` : ''}`);
  } else {
    output.line(`Trading: UNKNOWN: ${trading.problem}`);
  }
  output.line('');
  if (activity.inFlight.length === 0) output.line('In flight: none');
  else {
    output.line('In flight:');
    table(
      ['WORKFLOW', 'EXECUTION', 'STATE', 'FOR'],
      activity.inFlight.map((e) => [e.workflow, e.name, e.currentState, duration(e.runningSeconds)]),
    ).forEach((l) => output.line(`  ${l}`));
  }
  output.line('');
  if (activity.approvals.length === 0) output.line('Approvals waiting: none');
  else {
    output.line('Approvals waiting:');
    table(
      ['APPROVAL', 'KIND', 'REQUESTED BY', 'AGE', 'EXPIRES'],
      activity.approvals.map((a) => [a.approvalId, a.kind, a.requestedBy, duration(a.ageSeconds), a.expiresAt]),
    ).forEach((l) => output.line(`  ${l}`));
  }
  output.line('');
}
