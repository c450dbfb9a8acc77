/**
 * `sandbox.push`: a pipeline's push to one of the fleet's ECR repositories. A new digest
 * from the seeded random, the `ECR Image Action` event on the simulated bus (delivered to
 * rules like any AWS event), and the pushed digest's behaviour in the image catalogue.
 */
import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../lib/sandbox/event-pattern';
import type { AwsEvent } from '../../lib/sandbox/simulated-eventbridge';
import { Sandbox } from '../../lib/sandbox/sandbox';
import { fleetWith, openSandbox } from '../support/sandbox';

const PUSH_PATTERN = {
  source: ['aws.ecr'],
  'detail-type': ['ECR Image Action'],
  detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': ['order-gateway'] },
};

describe('sandbox.push', () => {
  it('pushes a new digest, emits the push event through the bus and sets the behaviour of <repositoryUri>@<digest>', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, { iam: 'off' });
    const events: AwsEvent[] = [];
    sandbox.eventBridge.onEvent((e) => events.push(e));
    const uri = sandbox.fleet.services['order-gateway']?.imageRepository ?? '';
    const pushed = sandbox.push('order-gateway:1.4.0', { behaviour: 'high-error-rate' });
    expect(pushed).toMatchObject({ repository: 'order-gateway', repositoryUri: uri, tag: '1.4.0' });
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pushed.image).toBe(`${uri}@${pushed.digest}`);
    expect(sandbox.images.behaviourOf(pushed.image)).toBe('high-error-rate');
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      source: 'aws.ecr',
      'detail-type': 'ECR Image Action',
      account: sandbox.context.account,
      region: sandbox.context.region,
      resources: [`arn:aws:ecr:${sandbox.context.region}:${sandbox.context.account}:repository/order-gateway`],
      detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'order-gateway', 'image-digest': pushed.digest, 'image-tag': '1.4.0' },
    });
    expect(Object.keys(event?.detail ?? {}).sort()).toEqual(['action-type', 'image-digest', 'image-tag', 'repository-name', 'result']);
    expect(matchesEventPattern(PUSH_PATTERN, event)).toBe(true);
    expect(sandbox.ecr.resolve(`${uri}:1.4.0`)).toBe(pushed.digest);
  });

  it('accepts the full repository URI, keeps an unspecified behaviour healthy and gives each push a new digest', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, { iam: 'off' });
    const uri = sandbox.fleet.services['risk-engine']?.imageRepository ?? '';
    const first = sandbox.push(`${uri}:2.0.0`);
    const second = sandbox.push('risk-engine:2.0.0');
    expect(first.repository).toBe('risk-engine');
    expect(second.digest).not.toBe(first.digest);
    expect(sandbox.images.behaviourOf(first.image)).toBe('healthy');
    // The tag moved to the second push.
    expect(sandbox.ecr.resolve(`${uri}:2.0.0`)).toBe(second.digest);
    expect(sandbox.ecr.imagesOf('risk-engine').find((i) => i.imageDigest === first.digest)?.imageTags).toEqual([]);
  });

  it('tags an existing digest again: one more event for the same digest', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, { iam: 'off' });
    const events: AwsEvent[] = [];
    sandbox.eventBridge.onEvent((e) => events.push(e));
    const pushed = sandbox.push('order-gateway:1.5.0');
    const again = sandbox.push('order-gateway:release-candidate', { digest: pushed.digest });
    expect(again.digest).toBe(pushed.digest);
    expect(events.map((e) => [e.detail['image-tag'], e.detail['image-digest']])).toEqual([
      ['1.5.0', pushed.digest],
      ['release-candidate', pushed.digest],
    ]);
  });

  it('is deterministic per seed', async () => {
    // One sandbox at a time: each installs the virtual clock.
    const digestOf = async (seed: number): Promise<string> => {
      const sandbox = await Sandbox.open({ fleet: fleetWith(), iam: 'off', seed });
      try {
        return sandbox.push('order-gateway:1.6.0').digest;
      } finally {
        sandbox.dispose();
      }
    };
    const first = await digestOf(11);
    expect(await digestOf(11)).toBe(first);
    expect(await digestOf(12)).not.toBe(first);
  });

  it('refuses an unknown repository, naming it, and a ref without a tag', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, { iam: 'off' });
    expect(() => sandbox.push('billing:1.0.0')).toThrow(/No ECR repository billing in this sandbox.*order-gateway/);
    expect(() => sandbox.push('111122223333.dkr.ecr.eu-west-2.amazonaws.com/billing:1.0.0')).toThrow(/billing/);
    expect(() => sandbox.push('order-gateway')).toThrow(/tag/);
    expect(() => sandbox.push('order-gateway:-bad')).toThrow(/not a valid image tag/);
  });
});
