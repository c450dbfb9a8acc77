/**
 * How releases read on a terminal: a progressive service's traffic weights per
 * revision, a release's per-service account, the list of recent releases and
 * one release in full. Pure functions of what the sandbox and the state table
 * report.
 */
import { type FleetRevision, type ReleaseRecord, revisionNumber as revisionOf, type ServiceAccount } from '../../functions/shared/domain/release';
import type { ServiceTraffic } from '../sandbox/ecs/traffic';
import { type Output, table } from './output';

/** `sha256:ab12…`: enough of a digest to tell two releases apart on one line. */
export function shortDigest(digest: string): string {
  const hex = /sha256:([0-9a-f]+)/.exec(digest)?.[1];
  return hex ? `sha256:${hex.slice(0, 4)}…` : digest;
}

/** A digest reference's short digest, or a tag reference's tag. */
export function imageLabel(image: string): string {
  if (image.includes('@sha256:')) return shortDigest(image);
  const last = image.split('/').pop() ?? image;
  return last.includes(':') ? (last.split(':').pop() ?? last) : last;
}

/** `order-gateway:13` from a task-definition ARN (or the ARN itself when it has no family:revision). */
export function taskDefinitionName(taskDefinitionArn: string): string {
  return taskDefinitionArn.split('/').pop() ?? taskDefinitionArn;
}

/** The revision number of a task-definition ARN, when it has one. */
export function revisionNumber(taskDefinitionArn: string): number | undefined {
  const n = revisionOf(taskDefinitionArn);
  return Number.isInteger(n) ? n : undefined;
}

const percent = (weight: number): string => `${Number(weight.toFixed(1))}%`;

/**
 * One line per state of a progressive service's traffic:
 * `order-gateway  production: 95% rev 12 (sha256:ab12…) · 5% rev 13 (sha256:cd34…)`,
 * followed by `  test: 100% rev 13 (sha256:cd34…)` while test traffic flows.
 */
export function trafficLine(serviceId: string, snapshot: ServiceTraffic): string {
  const revisions = [...snapshot.revisions].sort((a, b) => (revisionNumber(a.taskDefinitionArn) ?? 0) - (revisionNumber(b.taskDefinitionArn) ?? 0));
  const describe = (weight: number, r: (typeof revisions)[number]): string => {
    const n = revisionNumber(r.taskDefinitionArn);
    return `${percent(weight)} ${n === undefined ? taskDefinitionName(r.taskDefinitionArn) : `rev ${n}`} (${imageLabel(r.image)})`;
  };
  if (revisions.length === 0) return `${serviceId}  production: no revision registered`;
  const production = revisions.map((r) => describe(r.productionWeight, r)).join(' · ');
  const tested = revisions.filter((r) => r.testWeight > 0);
  const test = tested.length > 0 ? `  test: ${tested.map((r) => describe(r.testWeight, r)).join(' · ')}` : '';
  return `${serviceId}  production: ${production}${test}`;
}

/** The per-service account: status, tag and digest released, the revision before and after, and why. */
export function accountTable(accounts: readonly ServiceAccount[]): string[] {
  return table(
    ['SERVICE', 'STATUS', 'TAG', 'DIGEST', 'BEFORE', 'AFTER', 'REASON'],
    accounts.map((a) => [
      a.service,
      a.status,
      a.tag ?? '-',
      shortDigest(a.digest),
      taskDefinitionName(a.previousTaskDefinitionArn),
      a.taskDefinitionArn ? taskDefinitionName(a.taskDefinitionArn) : '-',
      (a.reason ?? '').slice(0, 120),
    ]),
  );
}

const when = (iso: string | undefined): string => (iso ? iso.replace('T', ' ').slice(0, 19) : '-');

/** Recent releases, newest first. */
export function releaseListTable(records: readonly ReleaseRecord[]): string[] {
  return table(
    ['RELEASE', 'STATUS', 'SERVICES', 'REQUESTED BY', 'STARTED', 'FINISHED'],
    records.map((r) => [
      r.releaseId,
      r.status,
      r.rollbackOf ? `rollback of ${r.rollbackOf}` : Object.keys(r.services).join(', ') || '-',
      r.requestedBy,
      when(r.startedAt),
      when(r.finishedAt),
    ]),
  );
}

/** One release in full: who and why, its waves, the account (tag and full digest), and the fleet's revisions before and after. */
export function releaseDetail(record: ReleaseRecord): string[] {
  const lines = [`Release ${record.releaseId}: ${record.status}`];
  const source = record.source ? ` from ${record.source.type}${record.source.tag ? ` (${record.source.repository ?? ''}:${record.source.tag})` : ''}` : '';
  lines.push(`  requested by ${record.requestedBy}${source}${record.reason ? `: ${record.reason}` : ''}`);
  if (record.rollbackOf) lines.push(`  returns the fleet to where it was before release ${record.rollbackOf}`);
  lines.push(`  started ${when(record.startedAt)}, finished ${when(record.finishedAt)}`);
  if (record.waitUntil && !record.finishedAt) lines.push(`  waits for the deploy window until ${when(record.waitUntil)}`);
  record.waves.forEach((wave, i) => lines.push(`  wave ${i + 1}: ${wave.join(', ')}`));
  const accounts = Object.values(record.services);
  if (accounts.length > 0) {
    lines.push('', ...accountTable(accounts));
    lines.push('');
    for (const a of accounts) {
      lines.push(`${a.service}: ${a.image}${a.tag ? ` (tag ${a.tag})` : ''}${!a.image.endsWith(a.digest) ? ` digest ${a.digest}` : ''}`);
    }
  }
  const before = record.fleetBefore;
  const after = record.fleetAfter ?? {};
  const services = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (services.length > 0) {
    const revision = (r: FleetRevision | undefined): string =>
      r ? `${taskDefinitionName(r.taskDefinitionArn)}${r.image ? ` (${imageLabel(r.image)})` : ''}` : '-';
    lines.push(
      '',
      ...table(
        ['SERVICE', 'REVISION BEFORE', 'REVISION AFTER'],
        services.map((s) => [s, revision(before[s]), revision(after[s])]),
      ),
    );
  }
  if (record.consistency) {
    const { proven, tasks, mismatches } = record.consistency;
    lines.push(
      '',
      proven
        ? `Consistency proof: every running task (${tasks}) runs the released digest`
        : `Consistency proof FAILED: ${mismatches.join('; ') || 'a task runs another image'}`,
    );
  }
  if (record.failure) lines.push(`Failure: ${record.failure.error}${record.failure.cause ? `: ${record.failure.cause}` : ''}`);
  return lines;
}

export function printLines(lines: readonly string[], output: Output): void {
  for (const line of lines) output.line(line);
}
