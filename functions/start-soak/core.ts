/**
 * Invoked by the soak's `.waitForTaskToken` state: stores the token where a
 * rollback-alarm event will find it, and fails the soak at once if an alarm is
 * already in ALARM. Nobody completes a healthy soak: its TimeoutSeconds ends it.
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import * as z from 'zod';
import { deployPlanSchema, executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import { completeTask, soakWaitKey, storeTaskToken } from '../shared/domain/task-callbacks';

export const startSoak = defineHandler({
  name: 'start-soak',
  description: "Registers the soak's task token so a rollback alarm can end the soak early",
  clients: ['dynamodb', 'sfn', 'cloudwatch'],
  input: z.object({ executionId: executionIdSchema, taskToken: z.string().min(1), plan: deployPlanSchema, deploymentId: z.string() }),
  core: async ({ executionId, taskToken, plan, deploymentId }, deps) => {
    await storeTaskToken(deps, soakWaitKey(plan.service), taskToken, {
      executionId,
      deploymentId,
      alarmNames: plan.rollbackAlarmNames,
      soakEndsAt: new Date(Date.now() + plan.soakSeconds * 1000).toISOString(),
    });
    if (plan.rollbackAlarmNames.length === 0) return { watching: [] };
    const alarms = await deps.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: plan.rollbackAlarmNames }));
    const firing = (alarms.MetricAlarms ?? []).filter((a) => a.StateValue === 'ALARM');
    if (firing.length > 0) {
      await completeTask(deps, taskToken, {
        error: 'RollbackAlarmFiredError',
        cause: firing.map((a) => `${a.AlarmName ?? '?'} is in ALARM: ${a.StateReason ?? ''}`).join('; '),
      });
    }
    return { watching: plan.rollbackAlarmNames, firing: firing.map((a) => a.AlarmName) };
  },
});
