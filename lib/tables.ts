/**
 * The DynamoDB tables' key layouts, shared by the CDK stack and the sandbox.
 */
import { AUDIT_TRAIL_INDEX } from '../functions/shared/domain/audit';
import type { AssureConfig } from '../functions/shared/runtime/config';

export interface TableLayout {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly timeToLiveAttribute?: string;
  readonly globalIndexes?: readonly { readonly name: string; readonly partitionKey: string; readonly sortKey: string }[];
  /** Keep the table (deletion protection on, and its point-in-time recovery) when the stack is deleted. */
  readonly retain: boolean;
  /** The table's stream and what each record carries. @default - no stream */
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
}

export const TABLE_LAYOUTS = {
  // Locks only guard workflows in flight; the stack's deletion may take them with it.
  lockTableName: { partitionKey: 'pk', retain: false },
  // Control state: task tokens awaiting callbacks, approvals and releases. Deleting the stack must not destroy them.
  callbackTableName: { partitionKey: 'pk', timeToLiveAttribute: 'expiresAt', retain: true },
  stateTableName: { partitionKey: 'pk', timeToLiveAttribute: 'expiresAt', retain: true },
  auditTableName: {
    partitionKey: 'pk',
    sortKey: 'sk',
    globalIndexes: [{ name: AUDIT_TRAIL_INDEX, partitionKey: 'trail', sortKey: 'sk' }],
    retain: true,
    // Feeds the write-once archive; old images too, so an update or deletion is archived with what it destroyed.
    stream: 'NEW_AND_OLD_IMAGES',
  },
} as const satisfies Record<'lockTableName' | 'callbackTableName' | 'stateTableName' | 'auditTableName', TableLayout>;

/** A CreateTable request for a layout (all keys are strings; on-demand billing). */
export function createTableInput(name: string, layout: TableLayout): Record<string, unknown> {
  const attributes = new Set([layout.partitionKey, layout.sortKey, ...(layout.globalIndexes ?? []).flatMap((g) => [g.partitionKey, g.sortKey])]);
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].filter((a): a is string => a !== undefined).map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [{ AttributeName: layout.partitionKey, KeyType: 'HASH' }, ...(layout.sortKey ? [{ AttributeName: layout.sortKey, KeyType: 'RANGE' }] : [])],
    ...(layout.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: layout.stream } } : {}),
    ...(layout.globalIndexes && layout.globalIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: layout.globalIndexes.map((g) => ({
            IndexName: g.name,
            KeySchema: [
              { AttributeName: g.partitionKey, KeyType: 'HASH' },
              { AttributeName: g.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
        }
      : {}),
  };
}

export function tableNames(config: AssureConfig): [keyof typeof TABLE_LAYOUTS, string][] {
  return (Object.keys(TABLE_LAYOUTS) as (keyof typeof TABLE_LAYOUTS)[]).map((key) => [key, config[key]]);
}
