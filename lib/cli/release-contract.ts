/**
 * What the CLI's release commands read beyond the domain modules: the release
 * workflow's name, its approval decision function, the list of release records
 * (a Scan the domain has no use for) and an execution's ARN by name.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { releaseKey, releaseRecordSchema, type ReleaseRecord } from '../../functions/shared/domain/release';
import type { Sandbox } from '../sandbox/sandbox';
import type { WorkflowName } from '../workflows/workflow-names';

/** The release workflow's registry name. */
export const RELEASE_WORKFLOW: WorkflowName = 'release';

/** The deploy workflow's standalone function that records a release approver's decision. */
export const DECIDE_RELEASE_APPROVAL: { readonly workflow: WorkflowName; readonly key: string } = { workflow: 'deploy', key: 'DecideReleaseApproval' };

/** Every release record, newest first (a Scan: the state table has no index by kind). */
export async function listReleases(sandbox: Sandbox, limit: number): Promise<ReleaseRecord[]> {
  const records: ReleaseRecord[] = [];
  const prefix = releaseKey('');
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await sandbox.clients.dynamodb.send(
      new ScanCommand({
        TableName: sandbox.config.stateTableName,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: marshall({ ':prefix': prefix }),
        ...(startKey ? { ExclusiveStartKey: marshall(startKey) } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const { pk: _pk, ...record } = unmarshall(item);
      records.push(releaseRecordSchema.parse(record));
    }
    startKey = page.LastEvaluatedKey ? unmarshall(page.LastEvaluatedKey) : undefined;
  } while (startKey);
  return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
}

/** The execution ARN of a workflow's execution by name (Step Functions builds it from the state machine's). */
export function executionArnOf(sandbox: Sandbox, workflow: WorkflowName, name: string): string | undefined {
  const machine = sandbox.stateMachines[workflow];
  return machine ? `${machine.replace(':stateMachine:', ':execution:')}:${name}` : undefined;
}
