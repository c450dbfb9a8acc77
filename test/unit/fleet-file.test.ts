import { describe, expect, it } from 'vitest';
import { FleetFileError } from '../../lib/fleet/fleet';
import { loadFleetFile, parseFleetYaml } from '../../lib/fleet/fleet-file';

const minimal = (services: string, top = ''): string => `
environment: staging
cluster: trading-staging
${top}
services:
${services}`;

const service = (name: string, extra = ''): string => `  ${name}:
    imageRepository: 111122223333.dkr.ecr.eu-west-2.amazonaws.com/${name}
    role: support
    capacity: { desired: 2, min: 1, max: 4 }
    executionRoleName: ${name}-execution
${extra}`;

function issuesOf(text: string): { path: string; message: string }[] {
  try {
    parseFleetYaml(text, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(FleetFileError);
    return [...(error as FleetFileError).issues];
  }
  throw new Error('expected the fleet file to be rejected');
}

describe('fleet file', () => {
  it('resolves the example trading fleet with defaults and a dependency order', () => {
    const fleet = loadFleetFile('examples/trading-fleet.yaml');
    expect(Object.keys(fleet.services)).toEqual([
      'reference-data',
      'market-data',
      'trade-service',
      'position-service',
      'risk-engine',
      'order-gateway',
      'web-gui',
    ]);
    const order = fleet.deployOrder;
    for (const s of Object.values(fleet.services)) {
      for (const dependency of s.dependsOn) expect(order.indexOf(dependency), `${dependency} before ${s.id}`).toBeLessThan(order.indexOf(s.id));
    }
    const gateway = fleet.services['order-gateway'];
    expect(gateway).toMatchObject({
      ecsServiceName: 'order-gateway',
      container: 'order-gateway',
      role: 'trading',
      strategy: { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 },
    });
    // A service that names no strategy rolls, with ECS's defaults.
    expect(fleet.services['web-gui']?.strategy).toEqual({ type: 'rolling', maximumPercent: 200, minimumHealthyPercent: 100 });
    // AWS's target-group defaults apply where the file says nothing.
    expect(fleet.services['web-gui']?.health.targetGroup).toEqual({
      intervalSeconds: 30,
      healthyThresholdCount: 5,
      unhealthyThresholdCount: 2,
      deregistrationDelaySeconds: 300,
    });
  });

  it('names the path and the reason for schema errors', () => {
    const issues = issuesOf(
      minimal(
        service('pricer', '    bogus: 1\n    capacity: { desired: 1, min: 2, max: 3 }\n').replace('    capacity: { desired: 2, min: 1, max: 4 }\n', ''),
        'region: Europe',
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'region', message: 'must be an AWS region such as eu-west-2' },
        { path: 'services.pricer.capacity.min', message: 'min must not exceed desired' },
        { path: 'services.pricer', message: 'Unrecognized key: "bogus"' },
      ]),
    );
  });

  it('takes approvers as IAM principal patterns and refuses a bare name, saying what is expected', () => {
    const approvals = (list: string) => `approvals:\n  resumeApprovers: [${list}]\n  release: { approvers: [arn:aws:iam::111122223333:role/release-pipeline] }`;
    const issues = issuesOf(minimal(service('pricer'), approvals('chief-risk-officer')));
    expect(issues).toEqual([
      { path: 'approvals.resumeApprovers.0', message: expect.stringContaining('must be an IAM principal ARN: a role session arn:aws:sts::') },
    ]);
    const fleet = parseFleetYaml(
      minimal(service('pricer'), approvals('"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_RiskApprover_9b2e/*"')),
      'test.yaml',
    );
    expect(fleet.approvals.resumeApprovers).toEqual(['arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_RiskApprover_9b2e/*']);
  });

  it('rejects unknown dependencies, self-dependencies and cycles', () => {
    expect(issuesOf(minimal(service('a', '    dependsOn: [ghost]\n')))).toEqual([{ path: 'services.a.dependsOn.0', message: 'unknown service ghost' }]);
    expect(issuesOf(minimal(service('a', '    dependsOn: [a]\n')))).toEqual([{ path: 'services.a.dependsOn.0', message: 'a service cannot depend on itself' }]);
    const cycle = issuesOf(minimal(service('a', '    dependsOn: [b]\n') + service('b', '    dependsOn: [c]\n') + service('c', '    dependsOn: [a]\n')));
    expect(cycle).toHaveLength(1);
    expect(cycle[0]?.message).toMatch(/^dependency cycle: (a|b|c) → .* → \1$/);
  });

  it('rejects duplicate alarm names and an HTTP health check without a network to reach tasks from', () => {
    const alarm = '    rollbackAlarms:\n      - { name: shared, metric: { namespace: T, name: ErrorRate }, threshold: 1, comparison: GreaterThanThreshold }\n';
    expect(issuesOf(minimal(service('a', alarm) + service('b', alarm)))).toEqual([
      { path: 'services.b.rollbackAlarms.0.name', message: 'alarm shared is already defined by a' },
    ]);
    expect(issuesOf(minimal(service('a', '    health: { http: { path: /health, port: 8080 } }\n')))[0]).toMatchObject({ path: 'services.a.health.http' });
  });

  it('validates alarm periods, canary steps and deploy windows as AWS does', () => {
    const badPeriod =
      '    rollbackAlarms:\n      - { name: x, metric: { namespace: T, name: E, periodSeconds: 45 }, threshold: 1, comparison: GreaterThanThreshold }\n';
    expect(issuesOf(minimal(service('a', badPeriod)))).toEqual([
      { path: 'services.a.rollbackAlarms.0.metric.periodSeconds', message: 'must be 10, 20, 30 or a multiple of 60 seconds' },
    ]);
    const canary = '    strategy: { type: canary, canaryPercent: 5.05 }\n';
    expect(issuesOf(minimal(service('a', canary))).map((i) => i.path)).toContain('services.a.strategy.canaryPercent');
    const window = 'deploy: { windows: [ { days: [MON], start: "18:00", end: "07:00", timeZone: Mars/Olympus } ] }';
    expect(
      issuesOf(minimal(service('a'), window))
        .map((i) => i.path)
        .sort(),
    ).toEqual(['deploy.windows.0.end', 'deploy.windows.0.timeZone']);
  });

  it('reads the release fields: push trigger and tag pattern, traffic shift, judge metrics and settings', () => {
    const fleet = loadFleetFile('examples/trading-fleet.yaml');
    const gateway = fleet.services['order-gateway'];
    expect(gateway?.release.trigger).toBe('push');
    expect(new RegExp(gateway?.release.tags ?? '').test('2.4.1')).toBe(true);
    expect(new RegExp(gateway?.release.tags ?? '').test('latest')).toBe(false);
    expect(gateway?.trafficShift?.roleName).toBe('ecs-infrastructure-load-balancers');
    expect(gateway?.judgeMetrics.map((m) => m.name)).toEqual(['OrderRejectRate']);
    // Defaults: a service says nothing, so only manifests release it.
    expect(fleet.services['web-gui']?.release).toEqual({ trigger: 'manual', tags: '^v?\\d+\\.\\d+\\.\\d+$' });
    expect(fleet.release.judge.minSamples).toBe(3);
    expect(fleet.approvals.release).toEqual({ required: false, timeoutMinutes: 60 });
  });

  it('refuses a progressive strategy without a traffic shift, and a traffic shift that is not two of each', () => {
    const http = '    health: { http: { path: /health, port: 8080 } }\n';
    const network = 'network: { vpcId: vpc-0a1b2c3d, subnetIds: [subnet-0a1b2c3d], securityGroupIds: [sg-0a1b2c3d] }';
    const canary = `    strategy: { type: canary }\n${http}`;
    expect(issuesOf(minimal(service('a', canary), network))).toEqual([
      {
        path: 'services.a.trafficShift',
        message: 'canary needs the two target groups, the production and test listener rules and the traffic-shift role',
      },
    ]);
    const tg = 'arn:aws:elasticloadbalancing:eu-west-2:111122223333:targetgroup/a-blue/0a1b2c3d4e5f6071';
    const rule = 'arn:aws:elasticloadbalancing:eu-west-2:111122223333:listener-rule/app/lb/0a1b2c3d4e5f6071/0a1b2c3d4e5f6072/0a1b2c3d4e5f6073';
    const same = `    trafficShift: { targetGroupArn: ${tg}, alternateTargetGroupArn: ${tg}, productionListenerRuleArn: ${rule}, testListenerRuleArn: ${rule}, containerPort: 8080, roleName: lb-role }\n`;
    expect(
      issuesOf(minimal(service('a', `${canary}${same}`), network))
        .map((i) => i.path)
        .sort(),
    ).toEqual(['services.a.trafficShift.alternateTargetGroupArn', 'services.a.trafficShift.testListenerRuleArn']);
    expect(issuesOf(minimal(service('a', `    release: { trigger: push, tags: "v(" }\n`))).map((i) => i.path)).toEqual(['services.a.release.tags']);
  });

  it('refuses a judge whose inconclusiveLimitMinutes is not longer than observeMinutes: no step could pass', () => {
    const judge = (settings: string): string => `release: { judge: { ${settings} } }`;
    const refused = { path: 'release.judge.inconclusiveLimitMinutes', message: 'must be longer than observeMinutes, or no step could pass' };
    expect(issuesOf(minimal(service('a'), judge('observeMinutes: 10, inconclusiveLimitMinutes: 10')))).toEqual([refused]);
    expect(issuesOf(minimal(service('a'), judge('observeMinutes: 10, inconclusiveLimitMinutes: 8')))).toEqual([refused]);
    // Against the default limit (15) too.
    expect(issuesOf(minimal(service('a'), judge('observeMinutes: 20')))).toEqual([refused]);
    expect(parseFleetYaml(minimal(service('a'), judge('observeMinutes: 10, inconclusiveLimitMinutes: 11')), 'test.yaml').release.judge).toMatchObject({
      observeMinutes: 10,
      inconclusiveLimitMinutes: 11,
    });
    expect(parseFleetYaml(minimal(service('a')), 'test.yaml').release.judge).toMatchObject({ observeMinutes: 8, inconclusiveLimitMinutes: 15 });
  });

  it('reports YAML syntax errors and unreadable files with where they are', () => {
    expect(issuesOf('environment: [unclosed\n')[0]?.path).toMatch(/^line \d+$/);
    expect(() => loadFleetFile('no/such/fleet.yaml')).toThrow(/no\/such\/fleet\.yaml is not a valid fleet file:\n {2}- \(root\): cannot be read/);
  });
});
