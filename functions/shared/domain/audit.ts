/**
 * The audit trail: every action writes an intent record before it acts and an
 * outcome record after, to a DynamoDB table that outlives execution history.
 *
 * Keys: pk = `subject#<subject>`, sk = `<ISO time>#<execution name>#<action>#<phase>`;
 * GSI `byTime` (pk `trail`, sk the same) lists the whole environment's trail in time order.
 */
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { HandlerDeps } from '../runtime/handler';

type AuditDeps = Pick<HandlerDeps<'dynamodb'>, 'clients' | 'config'>;

export const AUDIT_TRAIL_INDEX = 'byTime';
const TRAIL_PARTITION = 'trail';

export interface AuditAction {
  /** What is being done, e.g. `deploy.update-service`. */
  readonly action: string;
  /** What it is done to: a fleet service id, or `fleet`. */
  readonly subject: string;
  /** Who asked: a person, or `assure` for automatic actions. */
  readonly actor: string;
  /** Where the request came from: `step-functions`, `cli`, `eventbridge`, ... */
  readonly source: string;
  readonly executionId: string;
  /** The release the action is part of, when it is. */
  readonly releaseId?: string;
  readonly reason?: string;
  readonly before?: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditAction {
  readonly phase: 'intent' | 'outcome';
  readonly at: string;
  readonly status: 'started' | 'succeeded' | 'failed';
  readonly after?: Readonly<Record<string, unknown>>;
  readonly error?: { readonly name: string; readonly message: string };
}

export async function writeAuditRecord(deps: AuditDeps, record: AuditRecord): Promise<void> {
  const executionName = record.executionId.split(':').pop() ?? record.executionId;
  const sk = `${record.at}#${executionName}#${record.action}#${record.phase}`;
  await deps.clients.dynamodb
    .send(
      new PutItemCommand({
        TableName: deps.config.auditTableName,
        Item: marshall(
          { pk: `subject#${record.subject}`, sk, trail: TRAIL_PARTITION, ...record },
          { removeUndefinedValues: true, convertClassInstanceToMap: true },
        ),
        // A record is written once; a retried Lambda must not silently overwrite history.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )
    .catch((error: unknown) => {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    });
}

/**
 * Runs `act` between an intent record and an outcome record. The outcome records
 * the error when `act` fails, and the error is re-thrown unchanged.
 */
export async function audited<T>(
  deps: AuditDeps,
  action: AuditAction,
  act: () => Promise<T>,
  describeOutcome: (result: T) => Readonly<Record<string, unknown>> | undefined = () => undefined,
): Promise<T> {
  await writeAuditRecord(deps, { ...action, phase: 'intent', status: 'started', at: new Date().toISOString() });
  let result: T;
  try {
    result = await act();
  } catch (error) {
    const e = error as Error;
    await writeAuditRecord(deps, {
      ...action,
      phase: 'outcome',
      status: 'failed',
      at: new Date().toISOString(),
      error: { name: e.name, message: e.message },
    });
    throw error;
  }
  const after = describeOutcome(result);
  await writeAuditRecord(deps, {
    ...action,
    phase: 'outcome',
    status: 'succeeded',
    at: new Date().toISOString(),
    ...(after === undefined ? {} : { after }),
  });
  return result;
}

/** The newest audit records, newest first; for one subject, or the whole trail. */
export async function readAuditTrail(deps: AuditDeps, options: { readonly subject?: string; readonly limit: number }): Promise<AuditRecord[]> {
  const query = options.subject
    ? new QueryCommand({
        TableName: deps.config.auditTableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': `subject#${options.subject}` }),
        ScanIndexForward: false,
        Limit: options.limit,
      })
    : new QueryCommand({
        TableName: deps.config.auditTableName,
        IndexName: AUDIT_TRAIL_INDEX,
        KeyConditionExpression: 'trail = :trail',
        ExpressionAttributeValues: marshall({ ':trail': TRAIL_PARTITION }),
        ScanIndexForward: false,
        Limit: options.limit,
      });
  const result = await deps.clients.dynamodb.send(query);
  return (result.Items ?? []).map((item) => {
    const { pk: _pk, sk: _sk, trail: _trail, ...record } = unmarshall(item);
    return record as AuditRecord;
  });
}

/** Whether an execution already wrote its outcome record for an action on a subject. */
export async function hasOutcomeRecord(deps: AuditDeps, subject: string, executionId: string, action: string): Promise<boolean> {
  const result = await deps.clients.dynamodb.send(
    new QueryCommand({
      TableName: deps.config.auditTableName,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'executionId = :execution AND #action = :action AND phase = :outcome',
      ExpressionAttributeNames: { '#action': 'action' },
      ExpressionAttributeValues: marshall({ ':pk': `subject#${subject}`, ':execution': executionId, ':action': action, ':outcome': 'outcome' }),
      ConsistentRead: true,
    }),
  );
  return (result.Items ?? []).length > 0;
}
