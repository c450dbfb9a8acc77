/**
 * A service's status, held to the Amazon ECS API Reference:
 * - "DeleteService" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html):
 *   a service that is still scaled above 0 cannot be deleted unless `force`; a
 *   deleted service is DRAINING while its tasks stop, then INACTIVE once they are
 *   all STOPPING or STOPPED, and DescribeServices still shows it.
 * - "UpdateService", Errors (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html):
 *   ServiceNotActiveException, "The specified service isn't active. You can't
 *   update a service that's inactive."
 */
import { ServiceNotActiveException, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { openSandbox } from '../support/sandbox';
import { ecsWorld } from './ecs-fixture';

describe('DeleteService', () => {
  it('refuses a service scaled above 0 without force', async () => {
    const world = ecsWorld();
    await expect(world.call('DeleteService', { service: 's' })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'The service cannot be stopped while it is scaled above 0.',
    });
    expect(world.service().status).toBe('ACTIVE');
  });

  it('with force: DRAINING while the tasks stop (load-balanced ones drain first), then INACTIVE', async () => {
    const world = ecsWorld({ targetGroup: { deregistrationDelaySeconds: 30 } });
    const deleted = (await world.call('DeleteService', { service: 's', force: true })) as { service: { status: string; desiredCount: number } };
    expect(deleted.service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
    await world.clock.advance(10_000);
    expect(world.service().status).toBe('DRAINING');
    await world.clock.advance(60_000);
    expect(world.service().status).toBe('INACTIVE');
    expect(world.ecs.serviceTasks(world.service()).every((t) => t.lastStatus === 'STOPPED')).toBe(true);
    const described = (await world.call('DescribeServices', { services: ['s'] })) as { services: { status: string }[] };
    expect(described.services[0]?.status).toBe('INACTIVE');
    expect(world.ecs.isBusy()).toBe(false);
  });

  it('a service scaled to 0 first is deleted without force and turns INACTIVE', async () => {
    const world = ecsWorld();
    await world.call('UpdateService', { service: 's', desiredCount: 0 });
    await world.clock.advance(60_000);
    const deleted = (await world.call('DeleteService', { service: 's' })) as { service: { status: string } };
    expect(deleted.service.status).toBe('INACTIVE');
  });
});

describe('ServiceNotActiveException', () => {
  it.each(['DRAINING', 'INACTIVE'])('UpdateService on a %s service fails with ServiceNotActiveException', async (status) => {
    const world = ecsWorld({ targetGroup: { deregistrationDelaySeconds: 30 } });
    await world.call('DeleteService', { service: 's', force: true });
    if (status === 'INACTIVE') await world.clock.advance(60_000);
    expect(world.service().status).toBe(status);
    await expect(world.call('UpdateService', { service: 's', desiredCount: 2 })).rejects.toMatchObject({
      name: 'ServiceNotActiveException',
      message: 'Service was not ACTIVE.',
    });
  });

  it('reaches a handler through the SDK as its ServiceNotActiveException class', async () => {
    const sandbox = await openSandbox();
    await sandbox.ecs.handle('DeleteService', { cluster: 'trading-prod', service: 'web-gui', force: true });
    const update = sandbox.clients.ecs.send(new UpdateServiceCommand({ cluster: 'trading-prod', service: 'web-gui', desiredCount: 2 }));
    await expect(update).rejects.toBeInstanceOf(ServiceNotActiveException);
  });
});
