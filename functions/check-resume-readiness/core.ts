/**
 * Before trading resumes: the halt being resumed is still the one in force, no
 * halt alarm is in ALARM, and every service that stayed up is HEALTHY (the
 * hard-stopped ones are checked as their capacity comes back).
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { ResumeNotReadyError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { capacitySnapshotKey } from '../shared/domain/halt-plan';
import { readHaltFlag } from '../shared/domain/halt-flag';
import { resumeSchema } from '../shared/domain/resume-plan';
import { assessServiceHealth } from '../shared/domain/service-health';

export const checkResumeReadiness = defineHandler({
  name: 'check-resume-readiness',
  description: 'Refuses to resume while the halt changed, a halt alarm is in ALARM, or a running service is not HEALTHY',
  clients: ['ssm', 'cloudwatch', 'ecs', 'dynamodb'],
  input: z.object({ executionId: executionIdSchema, resume: resumeSchema }),
  core: async ({ resume }, deps) => {
    const problems: string[] = [];
    const flag = await readHaltFlag(deps);
    if (!flag.readable) problems.push(`the halt flag cannot be read (${flag.problem})`);
    else if (!flag.flag.halted || flag.flag.haltId !== resume.haltId)
      problems.push(`the halt in force is now ${flag.flag.halted ? (flag.flag.haltId ?? 'unknown') : 'none'}, not ${resume.haltId}`);

    const haltAlarms = (deps.fleet.halt?.alarms ?? []).map((a) => a.name);
    if (haltAlarms.length > 0) {
      const alarms = await deps.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: haltAlarms }));
      for (const alarm of alarms.MetricAlarms ?? []) {
        if (alarm.StateValue === 'ALARM') problems.push(`halt alarm ${alarm.AlarmName ?? '?'} is in ALARM: ${alarm.StateReason ?? ''}`);
      }
    }

    const checked: { service: string; status: string }[] = [];
    for (const service of Object.values(deps.fleet.services)) {
      const snapshot = await deps.clients.dynamodb.send(
        new GetItemCommand({
          TableName: deps.config.stateTableName,
          Key: marshall({ pk: capacitySnapshotKey(resume.haltId, service.id) }),
          ConsistentRead: true,
        }),
      );
      if (snapshot.Item) continue;
      const report = await assessServiceHealth(deps, {
        service: service.id,
        cluster: deps.fleet.cluster,
        ecsServiceName: service.ecsServiceName,
        rollbackAlarmNames: service.rollbackAlarms.map((a) => a.name),
        ...(service.health.http ? { http: service.health.http } : {}),
      });
      checked.push({ service: service.id, status: report.status });
      if (report.status !== 'HEALTHY') {
        const failed = report.checks.filter((c) => c.status === 'fail' || c.status === 'degraded').map((c) => `${c.name}: ${c.evidence}`);
        problems.push(`${service.id} is ${report.status} (${failed.join('; ')})`);
      }
    }
    if (problems.length > 0) throw new ResumeNotReadyError(`Not ready to resume trading: ${problems.join('; ')}`);
    return { checkedAt: new Date().toISOString(), services: checked };
  },
});
