/**
 * EventBridge target for `ECS Deployment State Change`: records a deployment's
 * final outcome and completes the task token of the state waiting for it.
 */
import { defineHandler } from '../shared/runtime/handler';
import { ecsDeploymentStateChangeSchema } from '../shared/domain/aws-events';
import { deliverDeploymentOutcome, outcomeForWait, storeDeploymentOutcome } from '../shared/domain/task-callbacks';

export const handleDeploymentEvent = defineHandler({
  name: 'handle-deployment-event',
  description: 'Completes the waiting deploy step when ECS reports a deployment COMPLETED or FAILED',
  clients: ['dynamodb', 'sfn'],
  input: ecsDeploymentStateChangeSchema,
  core: async (event, deps) => {
    const { eventName, deploymentId, reason } = event.detail;
    deps.logger.info('ECS deployment event', { eventName, deploymentId, service: event.resources[0], reason });
    if (eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS') return { deploymentId, action: 'none' };
    const item = await storeDeploymentOutcome(deps, {
      deploymentId,
      status: eventName === 'SERVICE_DEPLOYMENT_COMPLETED' ? 'COMPLETED' : 'FAILED',
      reason,
      at: event.detail.updatedAt,
    });
    const outcome = outcomeForWait(item);
    if (!item.taskToken || !outcome) return { deploymentId, action: 'recorded' };
    return { deploymentId, action: await deliverDeploymentOutcome(deps, item.taskToken, outcome) };
  },
});
