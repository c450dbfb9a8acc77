/**
 * AWS Control Tower's proactive controls on the synthesized stack: the cfn-guard
 * rules bundled with @cdklabs/cdk-validator-cfnguard (which ships the cfn-guard
 * binary, so this runs offline), as a CDK policy-validation plugin. No finding
 * may be left unacknowledged, and every acknowledgement
 * (lib/constructs/guard-acknowledgements.ts) must match a finding.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import { FleetAlarms } from '../../lib/constructs/fleet-alarms';
import { acknowledgeControlTowerFindings, CFN_GUARD_PLUGIN, CONTROL_TOWER_ACKNOWLEDGEMENTS } from '../../lib/constructs/guard-acknowledgements';
import { exampleFleet } from '../support/handler-deps';

const RULES_DIR = join(dirname(createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules/control-tower/cfn-guard');

const ruleFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? ruleFiles(path) : name.endsWith('.guard') ? [path] : [];
  });

/**
 * The rules about resource types the stack does not have. Every Control Tower
 * rule applies only `when` resources of its types exist, so leaving these out
 * changes no result; it spares cfn-guard (seconds of CPU) evaluating 200 rules
 * on nothing. A rule whose types cannot be read is always kept.
 */
function rulesForAbsentTypes(scope: Construct): string[] {
  const present = new Set(
    scope.node
      .findAll()
      .filter(CfnResource.isCfnResource)
      .map((r) => r.cfnResourceType),
  );
  return ruleFiles(RULES_DIR).flatMap((file) => {
    const types = [...readFileSync(file, 'utf8').matchAll(/["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']/g)].map((m) => m[1] as string);
    return types.length > 0 && !types.some((t) => present.has(t)) ? [parse(file).name] : [];
  });
}

interface ViolatingConstruct {
  readonly constructPath: string;
}
interface ReportViolation {
  readonly ruleName: string;
  readonly violatingConstructs: readonly ViolatingConstruct[];
  readonly acknowledgedId?: string;
}
interface PluginReport {
  readonly pluginName: string;
  readonly violations: readonly ReportViolation[];
  readonly suppressedViolations?: readonly ReportViolation[];
}

const outdirs: string[] = [];

/** Synthesizes with the Control Tower rules; returns the plugin's report and the synthesis error, if any. */
function validate(build: (app: App) => Stack): { stack: Stack; report: PluginReport; error?: Error } {
  const outdir = mkdtempSync(join(tmpdir(), 'assure-guard-'));
  outdirs.push(outdir);
  // Bundling skipped (the template is what is checked); the built-in CloudFormation schema check is not what this test is about.
  // In-memory mode: a failed validation throws (with the report) instead of only setting the process's exit code.
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:appMode': 'inmemory' },
  });
  const stack = build(app);
  Validations.of(app).addPlugins(new CfnGuardValidator({ disabledRules: rulesForAbsentTypes(stack), maxBuffer: 64 * 1024 * 1024 }));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  const json = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: PluginReport[] };
  const report = json.pluginReports.find((r) => r.pluginName === CFN_GUARD_PLUGIN);
  if (!report) throw new Error(`No ${CFN_GUARD_PLUGIN} report in the validation report: ${JSON.stringify(json).slice(0, 500)}`, { cause: error });
  return { stack, report, ...(error ? { error } : {}) };
}

const findings = (violations: readonly ReportViolation[] = []): string[] =>
  violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`)).sort();

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('AWS Control Tower proactive controls (cfn-guard)', () => {
  it('leave no finding on the stack unacknowledged, and every acknowledgement matches a finding', () => {
    const fleet = exampleFleet();
    const { stack, report, error } = validate((app) => new AssureStack(app, 'Test', { fleet, env: { account: fleet.account, region: fleet.region } }));
    expect(findings(report.violations)).toEqual([]);
    expect(error?.message).toBeUndefined();
    const alarms = stack.node.findChild('FleetAlarms') as FleetAlarms;
    const acknowledged = CONTROL_TOWER_ACKNOWLEDGEMENTS.flatMap((ack) => ack.resources(stack, { alarms }).map((r) => `${ack.rule} ${r.node.path}`)).sort();
    expect(findings(report.suppressedViolations)).toEqual(acknowledged);
    // Each acknowledgement names its control and gives a reason.
    for (const violation of report.suppressedViolations ?? []) expect(violation.acknowledgedId).toBe(`${CFN_GUARD_PLUGIN}::${violation.ruleName}`);
  });

  // Read from the report, not from synthesis failing: once any finding is acknowledged, CDK (2.276) recomputes the
  // plugin's success from violation severities the plugin never sets, and synthesis passes despite the rest.
  it('report a finding nobody acknowledged, beside the acknowledged ones', () => {
    const fleet = exampleFleet();
    let fleetAlarms = 0;
    const { report } = validate((app) => {
      const stack = new Stack(app, 'Small', { env: { account: '111122223333', region: 'eu-west-2' } });
      const alarms = new FleetAlarms(stack, 'FleetAlarms', { fleet });
      // An alarm outside the fleet file with no action, and a queue with no dead-letter queue: neither is acknowledged.
      new Alarm(stack, 'Unrouted', {
        metric: new Metric({ namespace: 'Test', metricName: 'Errors', period: Duration.minutes(1) }),
        threshold: 1,
        evaluationPeriods: 1,
      });
      new Queue(stack, 'NoDeadLetters');
      acknowledgeControlTowerFindings(stack, { alarms });
      fleetAlarms = alarms.alarms.size;
      return stack;
    });
    expect(findings(report.violations)).toEqual([
      'cloudwatch_alarm_action_check Small/Unrouted/Resource',
      'sqs_dlq_check Small/NoDeadLetters/Resource',
      // The template does not say the queue is encrypted (SQS's default encryption is not declared).
      'sqs_queue_encrypted_check Small/NoDeadLetters/Resource',
    ]);
    // The fleet file's alarms, acknowledged by name, are the only findings accepted.
    const suppressed = findings(report.suppressedViolations);
    expect(suppressed).toHaveLength(fleetAlarms);
    for (const finding of suppressed) expect(finding).toMatch(/^cloudwatch_alarm_action_check Small\/FleetAlarms\//);
  });
});
