/**
 * `assure demo`: the sandbox tour. A good release, a release whose tasks crash
 * (ECS's circuit breaker rolls it back), a release whose deep health check fails
 * (Assure's health gate rolls it back), then the fleet's status.
 */
import type { Sandbox } from '../sandbox/sandbox';
import type { ImageBehaviour } from '../sandbox/simulated-workloads';
import { runDeploy, printDeployResult } from './deploy-command';
import { fleetStatus, printStatus } from './fleet-report';
import type { Output } from './output';

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
    title: 'A risk-engine release whose containers crash on start: ECS\'s circuit breaker fails it and rolls back',
    service: 'risk-engine',
    tag: '2.4.0',
    behaviour: 'crash-on-start',
    expect: 'FAILED',
    evidence: 'circuit breaker',
  },
  {
    title: 'An order-gateway release that starts but fails its deep health check: Assure\'s health gate rolls it back',
    service: 'order-gateway',
    tag: '3.2.0',
    behaviour: 'failing-health-check',
    expect: 'FAILED',
    evidence: 'HealthGateFailedError',
  },
];

export async function runDemo(sandbox: Sandbox, output: Output, steps: readonly DemoStep[] = DEMO_STEPS): Promise<boolean> {
  output.line(`Assure sandbox demo: ${sandbox.fleet.environment} fleet, cluster ${sandbox.fleet.cluster}, ${Object.keys(sandbox.fleet.services).length} services.`);
  output.line(`Virtual time starts at ${new Date(sandbox.clock.now()).toISOString()}.`);
  let allAsExpected = true;
  for (const [index, step] of steps.entries()) {
    const service = sandbox.fleet.services[step.service];
    if (!service) throw new Error(`The demo needs a ${step.service} service in the fleet file`);
    const image = `${service.imageRepository}:${step.tag}`;
    sandbox.images.set(image, step.behaviour);
    output.line();
    output.line(`${index + 1}. ${step.title}`);
    output.line(`   sandbox image ${image} --behaviour ${step.behaviour}`);
    const result = await runDeploy(sandbox, { service: step.service, image, requestedBy: 'demo', reason: step.title }, output);
    printDeployResult(result, output, false);
    const asExpected = result.status === step.expect && result.message.includes(step.evidence);
    if (!asExpected) {
      allAsExpected = false;
      output.error(`   !! expected ${step.expect} with "${step.evidence}", got ${result.status}: ${result.message}`);
    }
    await sandbox.settleEcs();
  }
  output.line();
  output.line('Fleet status:');
  printStatus(await fleetStatus(sandbox), output);
  output.line();
  output.line(allAsExpected ? 'Every step ended as expected.' : 'Some steps did not end as expected.');
  output.line('Try: ./bin/assure status | health | history (the sandbox state is kept in .assure/).');
  return allAsExpected;
}
