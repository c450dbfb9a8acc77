/** The release views: traffic weights per revision, the per-service account, the release list and one release in full. */
import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../functions/shared/domain/release';
import { watchTraffic } from '../../lib/cli/release-run';
import type { RevisionTraffic, ServiceTraffic } from '../../lib/sandbox/ecs/traffic';
import { accountTable, imageLabel, releaseDetail, releaseListTable, revisionNumber, shortDigest, trafficLine } from '../../lib/cli/release-view';

const REPO = '111122223333.dkr.ecr.eu-west-2.amazonaws.com/order-gateway';
const OLD = `sha256:ab12${'0'.repeat(60)}`;
const NEW = `sha256:cd34${'1'.repeat(60)}`;
const taskDefinition = (service: string, n: number): string => `arn:aws:ecs:eu-west-2:111122223333:task-definition/${service}:${n}`;

function revision(n: number, digest: string, productionWeight: number, testWeight = 0): RevisionTraffic {
  return {
    serviceRevisionArn: `arn:aws:ecs:eu-west-2:111122223333:service-revision/trading/order-gateway/${n}00`,
    taskDefinitionArn: taskDefinition('order-gateway', n),
    image: `${REPO}@${digest}`,
    targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-2:111122223333:targetgroup/og-${n % 2 ? 'blue' : 'green'}/0123456789abcdef`,
    productionWeight,
    testWeight,
  };
}

describe('traffic lines', () => {
  it('print production weights per revision, oldest revision first, with each revision short digest', () => {
    const line = trafficLine('order-gateway', { revisions: [revision(13, NEW, 5), revision(12, OLD, 95)], at: 0 });
    expect(line).toBe('order-gateway  production: 95% rev 12 (sha256:ab12…) · 5% rev 13 (sha256:cd34…)');
  });

  it('add test traffic while it flows, and keep fractional canary weights', () => {
    expect(trafficLine('order-gateway', { revisions: [revision(12, OLD, 100), revision(13, NEW, 0, 100)], at: 0 })).toBe(
      'order-gateway  production: 100% rev 12 (sha256:ab12…) · 0% rev 13 (sha256:cd34…)  test: 100% rev 13 (sha256:cd34…)',
    );
    expect(trafficLine('order-gateway', { revisions: [revision(12, OLD, 99.5), revision(13, NEW, 0.5)], at: 0 })).toContain('99.5% rev 12');
  });

  it('show a tag for an image deployed by tag, and say when no revision is registered', () => {
    const tagged = { ...revision(1, OLD, 100), image: `${REPO}:3.2.0` };
    expect(trafficLine('order-gateway', { revisions: [tagged], at: 0 })).toBe('order-gateway  production: 100% rev 1 (3.2.0)');
    expect(trafficLine('order-gateway', { revisions: [], at: 0 })).toBe('order-gateway  production: no revision registered');
  });

  it('read digests, tags and revision numbers', () => {
    expect(shortDigest(NEW)).toBe('sha256:cd34…');
    expect(imageLabel(`${REPO}@${OLD}`)).toBe('sha256:ab12…');
    expect(imageLabel('localhost:5000/team/order-gateway:1.2.3')).toBe('1.2.3');
    expect(revisionNumber(taskDefinition('risk-engine', 7))).toBe(7);
    expect(revisionNumber('not-a-revision')).toBeUndefined();
  });
});

describe('watching traffic', () => {
  it('prints a line only when a watched service weights change, with the virtual time, and unsubscribes', () => {
    const weights: Record<string, RevisionTraffic[]> = { 'order-gateway': [revision(12, OLD, 100)], 'risk-engine': [] };
    const traffic = (service: string): ServiceTraffic => ({ revisions: weights[service] ?? [], at: 0 });
    const listeners = new Set<(serviceId: string, traffic: ServiceTraffic) => void>();
    const sandbox = {
      traffic,
      onTrafficChange: (l: (serviceId: string, traffic: ServiceTraffic) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const change = (service: string): void => {
      for (const l of listeners) l(service, traffic(service));
    };
    const lines: string[] = [];
    const stop = watchTraffic(sandbox, ['order-gateway', 'risk-engine'], () => Date.parse('2026-01-05T05:31:07Z'), {
      line: (t = '') => lines.push(t),
      error: () => undefined,
    });
    // The weights at the start are not a change.
    change('order-gateway');
    expect(lines).toEqual([]);
    weights['order-gateway'] = [revision(12, OLD, 95), revision(13, NEW, 5)];
    change('order-gateway');
    change('order-gateway');
    // A service not watched: no line.
    weights['web-gui'] = [revision(2, NEW, 100)];
    change('web-gui');
    weights['order-gateway'] = [revision(12, OLD, 100), revision(13, NEW, 0)];
    change('order-gateway');
    expect(lines).toEqual([
      '05:31:07  order-gateway  production: 95% rev 12 (sha256:ab12…) · 5% rev 13 (sha256:cd34…)',
      '05:31:07  order-gateway  production: 100% rev 12 (sha256:ab12…) · 0% rev 13 (sha256:cd34…)',
    ]);
    stop();
    expect(listeners.size).toBe(0);
  });
});

const record: ReleaseRecord = {
  releaseId: 'release-20260105T053000-ab12',
  executionArn: 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-release:release-20260105T053000-ab12',
  kind: 'release',
  status: 'FAILED',
  requestedBy: 'alice',
  reason: 'fleet release 2026.01',
  source: { type: 'manifest' },
  waves: [['market-data'], ['risk-engine'], ['order-gateway']],
  wavesDone: 3,
  services: {
    'market-data': {
      service: 'market-data',
      image: `${REPO.replace('order-gateway', 'market-data')}@${OLD}`,
      digest: OLD,
      tag: '1.4.0',
      previousTaskDefinitionArn: taskDefinition('market-data', 1),
      previousImage: `${REPO.replace('order-gateway', 'market-data')}:1.0.0`,
      taskDefinitionArn: taskDefinition('market-data', 2),
      status: 'ROLLED_BACK',
      reason: 'rolled back: order-gateway failed',
    },
    'order-gateway': {
      service: 'order-gateway',
      image: `${REPO}@${NEW}`,
      digest: NEW,
      previousTaskDefinitionArn: taskDefinition('order-gateway', 12),
      previousImage: `${REPO}@${OLD}`,
      taskDefinitionArn: taskDefinition('order-gateway', 13),
      status: 'FAILED',
      reason: 'judge FAIL at 5%: HTTPCode_Target_5XX_Count',
    },
  },
  fleetBefore: {
    'market-data': { taskDefinitionArn: taskDefinition('market-data', 1), image: `${REPO.replace('order-gateway', 'market-data')}:1.0.0` },
    'order-gateway': { taskDefinitionArn: taskDefinition('order-gateway', 12), image: `${REPO}@${OLD}` },
  },
  fleetAfter: {
    'market-data': { taskDefinitionArn: taskDefinition('market-data', 1), image: `${REPO.replace('order-gateway', 'market-data')}:1.0.0` },
    'order-gateway': { taskDefinitionArn: taskDefinition('order-gateway', 12), image: `${REPO}@${OLD}` },
  },
  consistency: { proven: true, tasks: 7, mismatches: [] },
  failure: { error: 'ReleaseFailed', cause: 'order-gateway: judge FAIL' },
  startedAt: '2026-01-05T05:30:00.000Z',
  finishedAt: '2026-01-05T05:52:10.000Z',
};

describe('release account', () => {
  it('tabulates each service: status, tag, short digest, revision before and after, and why', () => {
    expect(accountTable(Object.values(record.services))).toEqual([
      'SERVICE        STATUS       TAG    DIGEST        BEFORE            AFTER             REASON',
      'market-data    ROLLED_BACK  1.4.0  sha256:ab12…  market-data:1     market-data:2     rolled back: order-gateway failed',
      'order-gateway  FAILED       -      sha256:cd34…  order-gateway:12  order-gateway:13  judge FAIL at 5%: HTTPCode_Target_5XX_Count',
    ]);
  });

  it('lists releases, a fleet rollback by what it rolls back', () => {
    const rollback: ReleaseRecord = { ...record, releaseId: 'rollback-release-x', kind: 'rollback', status: 'SUCCEEDED', rollbackOf: record.releaseId };
    const lines = releaseListTable([record, rollback]);
    expect(lines[0]).toMatch(/^RELEASE +STATUS +SERVICES +REQUESTED BY +STARTED +FINISHED$/);
    expect(lines[1]).toMatch(/^release-20260105T053000-ab12 +FAILED +market-data, order-gateway +alice +2026-01-05 05:30:00 +2026-01-05 05:52:10$/);
    expect(lines[2]).toContain(`rollback of ${record.releaseId}`);
  });

  it('shows one release in full: who and why, waves, full digests and tags, revisions before and after', () => {
    const text = releaseDetail(record).join('\n');
    expect(text).toContain('Release release-20260105T053000-ab12: FAILED');
    expect(text).toContain('requested by alice from manifest: fleet release 2026.01');
    expect(text).toContain('wave 1: market-data\n  wave 2: risk-engine\n  wave 3: order-gateway');
    expect(text).toContain(`order-gateway: ${REPO}@${NEW}`);
    expect(text).toContain(`(tag 1.4.0)`);
    expect(text).toMatch(/^order-gateway +order-gateway:12 \(sha256:ab12…\) +order-gateway:12 \(sha256:ab12…\)$/m);
    expect(text).toMatch(/^market-data +market-data:1 \(1\.0\.0\) +market-data:1 \(1\.0\.0\)$/m);
    expect(text).toContain('Consistency proof: every running task (7) runs the released digest');
    expect(text).toContain('Failure: ReleaseFailed: order-gateway: judge FAIL');
    const unproven = releaseDetail({ ...record, consistency: { proven: false, tasks: 7, mismatches: ['order-gateway task 3f2a runs sha256:ab12'] } }).join(
      '\n',
    );
    expect(unproven).toContain('Consistency proof FAILED: order-gateway task 3f2a runs sha256:ab12');
  });
});
