/**
 * `assure demo`: the sandbox tour. A good release, a release whose tasks crash
 * (ECS's circuit breaker rolls it back), a release whose deep health check fails
 * (Assure's health gate rolls it back), a release whose error rate trips its
 * alarm during the soak (rolled back by the alarm); a pushed canary the judge
 * fails at 5 %, a blue/green release caught on test traffic, and a fleet release
 * rolled back in reverse dependency order; then a loss-limit alarm that
 * halts trading (verified), a load alarm whose scale-out the halt refuses, and
 * a resume that a second person approves; then a secret rotation that redeploys
 * its consumers, and a load alarm that scales a service out.
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { Command } from 'commander';
import { Sandbox } from '../../sandbox/sandbox';
import type { ImageBehaviour } from '../../sandbox/simulated-workloads';
import type { CommandContext } from '../command-context';
import { EXIT } from '../exit-codes';
import { type Output, printPages } from '../output';
import { withSandbox } from '../sandbox-session';
import { observeSignal, printSignalReport, setAlarmState } from '../signal-report';
import { printWorkflowResult } from '../workflow-run';
import { ApprovalRefused, decideApproval } from './approve';
import { runReleaseActs } from './demo-releases';
import { runDeploy } from './deploy';
import { startResume } from './resume';
import { runRotate } from './rotate';
import { fleetStatus, printStatus } from './status';

interface DemoStep {
  readonly title: string;
  readonly service: string;
  readonly tag: string;
  readonly behaviour: ImageBehaviour;
  readonly expect: 'SUCCEEDED' | 'FAILED';
  /** Text the outcome must contain, proving it ended the way the step says. */
  readonly evidence: string;
}

export const DEMO_STEPS: readonly DemoStep[] = [
  {
    title: 'A good release of market-data',
    service: 'market-data',
    tag: '1.1.0',
    behaviour: 'healthy',
    expect: 'SUCCEEDED',
    evidence: 'now runs',
  },
  {
    title: "A trade-service release whose containers crash on start: ECS's circuit breaker fails it and rolls back",
    service: 'trade-service',
    tag: '2.4.0',
    behaviour: 'crash-on-start',
    expect: 'FAILED',
    evidence: 'circuit breaker',
  },
  {
    title: "A rolling position-service release that starts but fails its deep health check: it reaches every task, then Assure's health gate rolls it back",
    service: 'position-service',
    tag: '3.2.0',
    behaviour: 'failing-health-check',
    expect: 'FAILED',
    evidence: 'HealthGateFailedError',
  },
  {
    title: 'A rolling market-data release whose error rate climbs after it goes live: its alarm fires during the soak and the release is rolled back',
    service: 'market-data',
    tag: '1.2.0',
    behaviour: 'high-error-rate',
    expect: 'FAILED',
    evidence: 'RollbackAlarmFiredError',
  },
];

export function addDemoCommand(program: Command, context: CommandContext): void {
  program
    .command('demo')
    .description(
      'a fresh sandbox: a good release, a crashing release, a release failing its health gate, a release rolled back by its alarm, a pushed canary failed by the judge, a blue/green release caught on test traffic, a fleet release rolled back in reverse order, a loss-limit halt (verified) that refuses a scale-out, an approved resume, a secret rotation, a scale-out, then the status',
    )
    .action(async () => {
      Sandbox.reset(context.globals().state);
      const ok = await withSandbox(context.globals(), (box) => runDemo(box, context.output));
      if (!ok) context.exit(EXIT.failed);
    });
}

const LOSS_LIMIT_ALARM = 'prod-daily-loss-limit';
const SCALED_SERVICE = 'order-gateway';
const ROTATED_SECRET = 'order-signing-key';

export async function runDemo(sandbox: Sandbox, output: Output, steps: readonly DemoStep[] = DEMO_STEPS): Promise<boolean> {
  output.line(
    `Assure sandbox demo: ${sandbox.fleet.environment} fleet, cluster ${sandbox.fleet.cluster}, ${Object.keys(sandbox.fleet.services).length} services.`,
  );
  output.line(`Virtual time starts at ${new Date(sandbox.clock.now()).toISOString()}.`);
  const failures: string[] = [];
  const pagesAtStart = sandbox.sns.messages.length;
  const check = (ok: boolean, expected: string, got: string): void => {
    if (ok) return;
    failures.push(expected);
    output.error(`   !! expected ${expected}, got ${got}`);
  };
  let act = 0;
  const heading = (title: string): void => {
    act += 1;
    output.line();
    output.line(`${act}. ${title}`);
  };

  for (const step of steps) {
    const service = sandbox.fleet.services[step.service];
    if (!service) throw new Error(`The demo needs a ${step.service} service in the fleet file`);
    const image = `${service.imageRepository}:${step.tag}`;
    sandbox.images.set(image, step.behaviour);
    heading(step.title);
    output.line(`   sandbox image ${image} --behaviour ${step.behaviour}`);
    const result = await runDeploy(sandbox, { service: step.service, image, requestedBy: 'demo', reason: step.title }, output);
    printWorkflowResult(result, output, false);
    check(
      result.status === step.expect && result.message.includes(step.evidence),
      `${step.expect} with "${step.evidence}"`,
      `${result.status}: ${result.message}`,
    );
    await sandbox.settleEcs();
  }

  await runReleaseActs(sandbox, output, heading, check);

  if (sandbox.fleet.halt?.alarms.some((a) => a.name === LOSS_LIMIT_ALARM)) {
    heading(`The equities desk breaches its daily loss limit: ${LOSS_LIMIT_ALARM} goes into ALARM and trading halts`);
    output.line(`   sandbox alarm ${LOSS_LIMIT_ALARM} ALARM`);
    const report = await observeSignal(
      sandbox,
      () => setAlarmState(sandbox, LOSS_LIMIT_ALARM, 'ALARM', 'Desk P&L -1.4m USD is below the -1m USD daily loss limit'),
      output,
    );
    printSignalReport(report, output, false);
    const halt = report.executions.find((e) => e.workflow === 'halt');
    check(
      halt?.result.status === 'SUCCEEDED' && halt.result.message.includes('Trading stopped'),
      'a halt SUCCEEDED with "Trading stopped"',
      halt ? `${halt.result.status}: ${halt.result.message}` : 'no halt',
    );

    if (sandbox.fleet.services[SCALED_SERVICE]?.scaling) {
      heading(`While trading is halted, load climbs on ${SCALED_SERVICE}: its CPU alarm asks for more tasks, and the scale-out is refused`);
      const outcome = await loadScalesService(sandbox, output);
      check(
        outcome?.outcome === 'refused' && /halt/i.test(outcome.message),
        'a scale-out refused because trading is halted',
        outcome ? `${outcome.outcome}: ${outcome.message}` : 'no scale execution',
      );
      sandbox.load.reset(SCALED_SERVICE);
    }

    heading('Trading resumes: the requester asks, cannot approve it themselves, and a second person approves once the alarm has cleared');
    output.line('   resume --as head-of-trading');
    const resume = await startResume(sandbox, { requestedBy: 'head-of-trading', reason: 'Loss limit reviewed with risk; positions flat' }, output);
    printWorkflowResult(resume, output, false);
    const approvalId = resume.executionArn.split(':').pop() ?? '';
    output.line(`   approve ${approvalId} --as head-of-trading`);
    try {
      await decideApproval(sandbox, { approvalId, approver: 'head-of-trading', reject: false }, output, { quiet: true });
      check(false, 'the requester to be refused', 'their approval was accepted');
    } catch (error) {
      if (!(error instanceof ApprovalRefused)) throw error;
      output.line(`✗ ${error.message}`);
    }
    output.line(`   (the risk desk reviews while ${LOSS_LIMIT_ALARM} returns to OK on its own data)`);
    await waitForAlarmState(sandbox, LOSS_LIMIT_ALARM, 'OK', 15 * 60_000);
    output.line(`   approve ${approvalId} --as chief-risk-officer`);
    const pagesBefore = sandbox.sns.messages.length;
    const approved = await decideApproval(sandbox, { approvalId, approver: 'chief-risk-officer', reject: false }, output);
    printPages(sandbox.sns.messages.slice(pagesBefore), output);
    printWorkflowResult(approved, output, false);
    check(approved.status === 'SUCCEEDED', 'the resume to SUCCEED', `${approved.status}: ${approved.message}`);
  }

  if (sandbox.fleet.secrets[ROTATED_SECRET]) {
    const consumers = sandbox.fleet.secrets[ROTATED_SECRET].consumers.join(' and ');
    heading(
      `${ROTATED_SECRET} is rotated: ECS injects secrets only at task start, so ${consumers} are redeployed, dependencies first, through the health gate`,
    );
    output.line(`   rotate ${ROTATED_SECRET}`);
    const rotation = await runRotate(sandbox, { secret: ROTATED_SECRET, requestedBy: 'demo', reason: 'Quarterly rotation of the order signing key' }, output);
    printWorkflowResult(rotation, output, false);
    check(rotation.status === 'SUCCEEDED', 'the rotation to SUCCEED with every consumer on the new version', `${rotation.status}: ${rotation.message}`);
    await sandbox.settleEcs();
  }

  if (sandbox.fleet.services[SCALED_SERVICE]?.scaling) {
    heading(`Load climbs on ${SCALED_SERVICE} with trading live: its CPU alarm scales it out by the step the breach falls in`);
    const outcome = await loadScalesService(sandbox, output);
    check(outcome?.outcome === 'scaled', `${SCALED_SERVICE} scaled out`, outcome ? `${outcome.outcome}: ${outcome.message}` : 'no scale execution');
    sandbox.load.reset(SCALED_SERVICE);
    await sandbox.settleEcs();
  }

  output.line();
  output.line('Fleet status:');
  printStatus(await fleetStatus(sandbox), output);
  output.line();
  // Pages go out only when a person must act: a first evaluation, a recovery or INSUFFICIENT_DATA pages nobody.
  output.line(`The on-call was paged ${sandbox.sns.messages.length - pagesAtStart} time(s), each for something a person must act on or know.`);
  output.line(failures.length === 0 ? 'Every step ended as expected.' : `${failures.length} step(s) did not end as expected.`);
  output.line('Try: ./bin/assure status | health | history (the sandbox state is kept in .assure/).');
  return failures.length === 0;
}

/**
 * Raises the service's CPU demand to 90 % of its tasks and runs until its CPU
 * alarm has started a scale execution and that execution has ended; returns its output.
 */
async function loadScalesService(sandbox: Sandbox, output: Output): Promise<{ outcome: string; message: string } | undefined> {
  const scaleExecutions = (): number => sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines.scale).length;
  const before = scaleExecutions();
  const desired = sandbox.fleet.services[SCALED_SERVICE]?.capacity.desired ?? 4;
  output.line(`   (sandbox: ${SCALED_SERVICE} now needs ${desired * 0.9} tasks' worth of CPU)`);
  sandbox.load.set(SCALED_SERVICE, desired * 0.9);
  const report = await observeSignal(sandbox, async () => void (await sandbox.clock.runUntil(() => scaleExecutions() > before, 15 * 60_000)), output);
  printSignalReport(report, output, false);
  const scale = report.executions.find((e) => e.workflow === 'scale');
  const record = scale ? sandbox.stepFunctions.execution(scale.result.executionArn) : undefined;
  return record?.output ? (JSON.parse(record.output) as { outcome: string; message: string }) : undefined;
}

/** Runs virtual time until the alarm is in `state` (CloudWatch re-evaluates it from its metric), up to a limit. */
async function waitForAlarmState(sandbox: Sandbox, alarmName: string, state: string, maxVirtualMs: number): Promise<void> {
  const deadline = sandbox.clock.now() + maxVirtualMs;
  while (sandbox.clock.now() < deadline) {
    const described = await sandbox.complete(sandbox.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] })));
    if (described.MetricAlarms?.[0]?.StateValue === state) return;
    await sandbox.clock.advance(30_000);
  }
}
