/**
 * EventBridge target for the fleet's rollback alarms: an alarm going into ALARM
 * ends its service's soak with RollbackAlarmFiredError, so the deploy rolls back
 * within one event delivery instead of at the end of the soak.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { cloudWatchAlarmStateChangeSchema } from '../shared/aws-events';
import { defineHandler } from '../shared/handler';
import { completeTask, soakWaitKey } from '../shared/task-callbacks';

export const handleAlarmEvent = defineHandler({
  name: 'handle-alarm-event',
  description: 'Ends a soaking deploy early when one of its rollback alarms goes into ALARM',
  clients: ['dynamodb', 'sfn'],
  input: cloudWatchAlarmStateChangeSchema,
  core: async (event, deps) => {
    const { alarmName, state } = event.detail;
    if (state.value !== 'ALARM') return { alarmName, action: 'none', why: `state is ${state.value}` };
    const owner = Object.values(deps.fleet.services).find((s) => s.rollbackAlarms.some((a) => a.name === alarmName));
    if (!owner) return { alarmName, action: 'none', why: 'not a rollback alarm of this fleet' };
    const item = await deps.clients.dynamodb.send(
      new GetItemCommand({ TableName: deps.config.callbackTableName, Key: marshall({ pk: soakWaitKey(owner.id) }), ConsistentRead: true }),
    );
    const soak = item.Item ? unmarshall(item.Item) : undefined;
    if (typeof soak?.taskToken !== 'string') return { alarmName, service: owner.id, action: 'none', why: 'no deploy is soaking' };
    const delivery = await completeTask(deps, soak.taskToken, {
      error: 'RollbackAlarmFiredError',
      cause: `${alarmName} went into ALARM at ${state.timestamp}: ${state.reason}`,
    });
    return { alarmName, service: owner.id, action: 'ended-soak', delivery };
  },
});
