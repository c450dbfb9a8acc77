/**
 * The audit trail: every action writes an intent record before it acts and an
 * outcome record after, to a DynamoDB table that outlives execution history.
 *
 * Keys: pk = `subject#<subject>`, sk = `<ISO time>#<execution name>#<action>#<phase>`;
 * GSI `byTime` (pk `trail`, sk the same) lists the whole environment's trail in time order.
 * Each record is a link of its subject's hash chain (see audit-chain.ts); the chain's
 * link items live in partitions of their own (`chain#<subject>`), outside these keys.
 */
import { QueryCommand, type TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { AuditChainContentionError } from '../runtime/errors';
import type { HandlerDeps } from '../runtime/handler';
import { auditRecordHash, CHAIN_LINK_KIND, type ChainLink, chainLinkPk, chainLinkSk, GENESIS_HASH, seqOfLink } from './audit-chain';

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

/**
 * Tries before giving up on a subject whose chain head keeps moving under this writer.
 * Every round some writer wins its seq, so N writers racing on one subject all finish within N rounds.
 */
const CHAIN_ATTEMPTS = 50;

/**
 * Appends a record to its subject's hash chain: reads the chain's head, then
 * writes the record and the link claiming the next seq in one transaction,
 * each on the condition that it does not exist. A cancelled link means another
 * writer took that seq: read the head again and retry. A record that already
 * exists (a retried Lambda writing the same record) is left as it is.
 */
export async function writeAuditRecord(deps: AuditDeps, record: AuditRecord): Promise<void> {
  const executionName = record.executionId.split(':').pop() ?? record.executionId;
  const sk = `${record.at}#${executionName}#${record.action}#${record.phase}`;
  // As DynamoDB will return it, so the hash covers exactly what is stored.
  const stored = unmarshall(marshall({ pk: `subject#${record.subject}`, sk, trail: TRAIL_PARTITION, ...record }, MARSHALL_OPTIONS));
  for (let attempt = 1; attempt <= CHAIN_ATTEMPTS; attempt += 1) {
    const head = await chainHead(deps, record.subject);
    const seq = head.seq + 1;
    const chained: Record<string, unknown> = { ...stored, seq, prevHash: head.hash };
    const hash = auditRecordHash(chained);
    const link: ChainLink = { pk: chainLinkPk(record.subject), sk: chainLinkSk(seq), kind: CHAIN_LINK_KIND, recordSk: sk, recordHash: hash };
    let outcome: 'written' | 'exists' | 'raced' = 'written';
    try {
      await deps.clients.dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            // A record is written once; a retried Lambda must not silently overwrite history.
            {
              Put: {
                TableName: deps.config.auditTableName,
                Item: marshall({ ...chained, hash }, MARSHALL_OPTIONS),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: deps.config.auditTableName, Item: marshall(link), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
    } catch (error) {
      outcome = cancelledBecause(error);
    }
    if (outcome !== 'raced') return;
  }
  throw new AuditChainContentionError(
    `Could not append to the audit chain of ${record.subject} in ${CHAIN_ATTEMPTS} attempts: other writers kept taking the next seq`,
  );
}

/** Why a transaction was cancelled: the record exists already, or another writer took the seq; any other error is thrown. */
function cancelledBecause(error: unknown): 'exists' | 'raced' {
  if ((error as Error).name !== 'TransactionCanceledException') throw error;
  const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
  const [recordReason, linkReason] = reasons;
  if (recordReason?.Code === 'ConditionalCheckFailed') return 'exists';
  if (linkReason?.Code === 'ConditionalCheckFailed' || reasons.some((r) => r.Code === 'TransactionConflict')) return 'raced';
  throw error;
}

const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

/** The subject's newest chain link: its seq and the hash of the record that took it (0 and the genesis hash when none). */
async function chainHead(deps: AuditDeps, subject: string): Promise<{ seq: number; hash: string }> {
  const result = await deps.clients.dynamodb.send(
    new QueryCommand({
      TableName: deps.config.auditTableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': chainLinkPk(subject) }),
      ScanIndexForward: false,
      Limit: 1,
      // Another writer's link committed a moment ago must be seen, or this writer would claim a taken seq on every try.
      ConsistentRead: true,
    }),
  );
  const newest = result?.Items?.[0];
  if (!newest) return { seq: 0, hash: GENESIS_HASH };
  const link = unmarshall(newest) as ChainLink;
  return { seq: seqOfLink(link), hash: link.recordHash };
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
