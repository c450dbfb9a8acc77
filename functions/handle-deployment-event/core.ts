/**
 * EventBridge target for `ECS Deployment State Change`: records a deployment's
 * final outcome and completes the task token of the state waiting for it.
 *
 * Only an event this environment could have emitted counts: from its account
 * and region, neither stale nor dated in the future, about a fleet service in
 * the fleet's cluster, for the deployment id a deploy of that service awaits.
 * An untrusted event is refused and recorded; an event for a deployment no
 * deploy awaits is logged. Neither changes anything: a forged COMPLETED event
 * cannot complete a waiting deploy. (An event that arrives before the wait
 * changes nothing either; the wait asks ECS itself, see await-deployment-outcome.)
 */
import { serviceByEcsName } from '../../lib/fleet/fleet-queries';
import { writeAuditRecord } from '../shared/domain/audit';
import { ecsDeploymentStateChangeSchema, type EcsDeploymentStateChange, untrustedEventReason } from '../shared/domain/aws-events';
import { deliverDeploymentOutcome, outcomeForWait, storeAwaitedDeploymentOutcome } from '../shared/domain/task-callbacks';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';

export type DeploymentEventAction = 'none' | 'refused' | 'not-awaited' | 'recorded' | 'delivered' | 'task-already-closed';

export interface DeploymentEventResult {
  readonly deploymentId: string;
  readonly action: DeploymentEventAction;
  readonly why?: string;
}

type EventDeps = HandlerDeps<'dynamodb' | 'sfn'>;

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/<service>` → its cluster and service names. */
function serviceOfArn(arn: string | undefined): { cluster: string; service: string } | undefined {
  const match = /^arn:aws[\w-]*:ecs:[^:]*:[^:]*:service\/([^/]+)\/([^/]+)$/.exec(arn ?? '');
  return match?.[1] && match[2] ? { cluster: match[1], service: match[2] } : undefined;
}

export const handleDeploymentEvent = defineHandler({
  name: 'handle-deployment-event',
  description: 'Completes the waiting deploy step when ECS reports a deployment COMPLETED or FAILED',
  clients: ['dynamodb', 'sfn'],
  input: ecsDeploymentStateChangeSchema,
  core: async (event, deps): Promise<DeploymentEventResult> => {
    const { eventName, deploymentId, reason } = event.detail;
    deps.logger.info('ECS deployment event', { eventName, deploymentId, service: event.resources[0], reason });
    const untrusted = untrustedEventReason(event, { ...deps.config, maxEventAgeSeconds: deps.fleet.guardRails.maxEventAgeSeconds });
    if (untrusted) return refuse(deps, event, untrusted);
    const named = serviceOfArn(event.resources[0]);
    if (!named) return refuse(deps, event, `the event names no ECS service (resources: ${event.resources.join(', ') || 'none'})`);
    if (named.cluster !== deps.fleet.cluster)
      return refuse(deps, event, `service ${named.service} of cluster ${named.cluster}, not the fleet's ${deps.fleet.cluster}`);
    const service = serviceByEcsName(deps.fleet, named.service);
    if (!service) return refuse(deps, event, `ECS service ${named.service} is not a service of the fleet`);
    if (eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS') return { deploymentId, action: 'none' };
    const item = await storeAwaitedDeploymentOutcome(deps, service.id, {
      deploymentId,
      status: eventName === 'SERVICE_DEPLOYMENT_COMPLETED' ? 'COMPLETED' : 'FAILED',
      reason,
      at: event.detail.updatedAt,
    });
    if (!item) {
      // Routine too (an ECS rollback's or a restart's deployment): logged, not recorded; nothing stored.
      const why = `no deploy of ${service.id} awaits deployment ${deploymentId}`;
      deps.logger.info('ECS deployment event for a deployment nobody awaits: nothing changed', { eventId: event.id, deploymentId, eventName, why });
      return { deploymentId, action: 'not-awaited', why };
    }
    const outcome = outcomeForWait(item);
    if (!item.taskToken || !outcome) return { deploymentId, action: 'recorded' };
    return { deploymentId, action: await deliverDeploymentOutcome(deps, item.taskToken, outcome) };
  },
});

/** A refused event is recorded (a forged one needs no person: not paged) and changes nothing else. */
async function refuse(deps: EventDeps, event: EcsDeploymentStateChange, why: string, subject = 'fleet'): Promise<DeploymentEventResult> {
  const { deploymentId, eventName } = event.detail;
  deps.logger.warn('ECS deployment event refused', { eventId: event.id, deploymentId, eventName, why });
  await writeAuditRecord(deps, {
    action: 'deploy.event-refused',
    subject,
    actor: 'ecs',
    source: `eventbridge:${event.id}`,
    executionId: `event:${event.id}`,
    reason: why,
    phase: 'outcome',
    status: 'failed',
    at: new Date().toISOString(),
    after: { eventName, deploymentId, account: event.account, region: event.region, time: event.time, resources: event.resources },
  });
  return { deploymentId, action: 'refused', why };
}
