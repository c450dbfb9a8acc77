/**
 * DynamoDB, backed in-process by dynalite (a DynamoDB implementation on LevelDB):
 * the same request validation, condition and update expressions, and error types
 * as the real service. A table created with a StreamSpecification has a stream:
 * each write that changes an item produces one record (INSERT, MODIFY or REMOVE,
 * with the images its view type names), as DynamoDB Streams delivers them to
 * Lambda event source mappings; a write that fails or changes nothing produces none.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { SimulatedAwsError } from './aws-error';
import type { SimulatedService } from './sdk-transport';

const require = createRequire(import.meta.url);

interface DynaliteError {
  readonly statusCode?: number;
  readonly body?: { readonly __type?: string; readonly message?: string; readonly Message?: string };
}

type Action = (store: unknown, data: Record<string, unknown>, callback: (error: DynaliteError | null, result?: unknown) => void) => void;

interface Validation {
  readonly types: unknown;
  readonly custom?: unknown;
}

const dynaliteValidations = require('dynalite/validations') as {
  checkTypes(data: unknown, types: unknown): Record<string, unknown>;
  checkValidations(data: unknown, types: unknown, custom: unknown, store: unknown): void;
};

const OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'UpdateItem',
  'UpdateTable',
] as const;

/** Operations that change items: one at a time, so that a transaction's condition checks and writes see no other write in between. */
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** A transaction's actions → the single-item operation whose request shape (and validation) each takes. */
const TRANSACT_ACTIONS = { Put: 'putItem', Update: 'updateItem', Delete: 'deleteItem', ConditionCheck: 'deleteItem' } as const;
type TransactAction = keyof typeof TRANSACT_ACTIONS;

interface DynaliteDb {
  createKey(item: unknown, table: unknown): string;
  checkConditional(data: unknown, existingItem: unknown): DynaliteError | null | undefined;
}

interface DynaliteStore {
  getTable(name: string, callback: (error: DynaliteError | null, table?: unknown) => void): void;
  getItemDb(name: string): { get(key: string, callback: (error: (Error & { name: string }) | null, item?: unknown) => void): void };
}

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

type AttributeMap = Record<string, unknown>;

/** A stream record as Lambda receives it in `Records`. */
export interface StreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime: number;
    readonly Keys: AttributeMap;
    readonly NewImage?: AttributeMap;
    readonly OldImage?: AttributeMap;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: StreamViewType;
  };
  readonly eventSourceARN: string;
}

interface TableStream {
  readonly arn: string;
  readonly label: string;
  readonly viewType: StreamViewType;
  readonly keyNames: readonly string[];
}

export interface TableSnapshot {
  readonly definition: Record<string, unknown>;
  readonly items: Record<string, unknown>[];
}

export class SimulatedDynamoDb implements SimulatedService {
  private readonly store: unknown;
  private readonly definitions = new Map<string, Record<string, unknown>>();
  /** The tail of the queue of writes (see WRITES). */
  private writing: Promise<unknown> = Promise.resolve();
  private readonly streams = new Map<string, TableStream>();
  private readonly streamListeners: ((record: StreamRecord) => void)[] = [];
  private sequence = 0;

  constructor(private readonly context: { readonly account: string; readonly region: string } = { account: '000000000000', region: 'us-east-1' }) {
    const db = require('dynalite/db') as { create(options: object): unknown };
    this.store = db.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  }

  /** Every stream record of every table, as it is written (event source mappings poll these). */
  onStreamRecord(listener: (record: StreamRecord) => void): void {
    this.streamListeners.push(listener);
  }

  /** A table's latest stream ARN, if it has a stream. */
  latestStreamArn(tableName: string): string | undefined {
    return this.streams.get(tableName)?.arn;
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    // The images are read inside the write queue, so no other write lands between them and the write.
    return this.enqueue(operation, async () => {
      const writes = this.streamedWrites(operation, input);
      if (writes.length === 0) return this.dispatch(operation, input);
      const before = await Promise.all(writes.map((w) => this.currentItem(w.table, w.key)));
      const result = await this.dispatch(operation, input);
      const after = await Promise.all(writes.map((w) => this.currentItem(w.table, w.key)));
      writes.forEach((write, index) => this.emit(write.table, write.key, before[index], after[index]));
      return result;
    });
  }

  /** The items a write touches on tables with streams, by key. */
  private streamedWrites(operation: string, input: Record<string, unknown>): { table: string; key: AttributeMap }[] {
    const keyOf = (table: string, item: AttributeMap): AttributeMap => {
      const names = this.streams.get(table)?.keyNames ?? [];
      return Object.fromEntries(names.map((name) => [name, item[name]]));
    };
    const table = String(input.TableName ?? '');
    switch (operation) {
      case 'PutItem':
        return this.streams.has(table) && input.Item ? [{ table, key: keyOf(table, input.Item as AttributeMap) }] : [];
      case 'UpdateItem':
      case 'DeleteItem':
        return this.streams.has(table) && input.Key ? [{ table, key: input.Key as AttributeMap }] : [];
      case 'BatchWriteItem':
        return Object.entries((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: AttributeMap }; DeleteRequest?: { Key: AttributeMap } }[]>)
          .filter(([name]) => this.streams.has(name))
          .flatMap(([name, requests]) =>
            requests.flatMap((r) =>
              r.PutRequest ? [{ table: name, key: keyOf(name, r.PutRequest.Item) }] : r.DeleteRequest ? [{ table: name, key: r.DeleteRequest.Key }] : [],
            ),
          );
      case 'TransactWriteItems':
        return ((input.TransactItems ?? []) as Record<string, { TableName?: string; Item?: AttributeMap; Key?: AttributeMap }>[]).flatMap((action) => {
          const [kind, request] = Object.entries(action)[0] ?? [];
          const name = String(request?.TableName ?? '');
          if (!request || kind === 'ConditionCheck' || !this.streams.has(name)) return [];
          const key = kind === 'Put' && request.Item ? keyOf(name, request.Item) : request.Key;
          return key ? [{ table: name, key }] : [];
        });
      default:
        return [];
    }
  }

  private async currentItem(table: string, key: AttributeMap): Promise<AttributeMap | undefined> {
    const result = (await this.execute('GetItem', { TableName: table, Key: key, ConsistentRead: true })) as { Item?: AttributeMap };
    return result.Item;
  }

  private emit(table: string, key: AttributeMap, oldImage: AttributeMap | undefined, newImage: AttributeMap | undefined): void {
    const stream = this.streams.get(table);
    if (!stream) return;
    // No change, no record: a failed condition, a put of the same item, or a delete of nothing.
    if (JSON.stringify(oldImage) === JSON.stringify(newImage)) return;
    const eventName = oldImage === undefined ? 'INSERT' : newImage === undefined ? 'REMOVE' : 'MODIFY';
    this.sequence += 1;
    const withNew = stream.viewType === 'NEW_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES';
    const withOld = stream.viewType === 'OLD_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES';
    const record: StreamRecord = {
      eventID: createHash('md5').update(`${stream.arn}#${this.sequence}`).digest('hex'),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.context.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: key,
        ...(withNew && newImage ? { NewImage: newImage } : {}),
        ...(withOld && oldImage ? { OldImage: oldImage } : {}),
        SequenceNumber: String(this.sequence).padStart(21, '0'),
        SizeBytes: Buffer.byteLength(JSON.stringify({ key, newImage, oldImage })),
        StreamViewType: stream.viewType,
      },
      eventSourceARN: stream.arn,
    };
    for (const listener of this.streamListeners) listener(structuredClone(record));
  }

  private createStream(input: Record<string, unknown>): void {
    const specification = input.StreamSpecification as { StreamEnabled?: boolean; StreamViewType?: StreamViewType } | undefined;
    const name = String(input.TableName);
    if (!specification?.StreamEnabled || !specification.StreamViewType) return;
    // The label is the stream's creation time, as DynamoDB writes it.
    const label = new Date().toISOString().replace('Z', '');
    const keyNames = ((input.KeySchema ?? []) as { AttributeName: string }[]).map((k) => k.AttributeName);
    this.streams.set(name, {
      arn: `arn:aws:dynamodb:${this.context.region}:${this.context.account}:table/${name}/stream/${label}`,
      label,
      viewType: specification.StreamViewType,
      keyNames,
    });
  }

  private async execute(operation: string, input: Record<string, unknown>): Promise<unknown> {
    return this.enqueue(operation, () => this.dispatch(operation, input));
  }

  /** Runs a write after every write before it (see WRITES); anything else at once. */
  private enqueue(operation: string, run: () => Promise<unknown>): Promise<unknown> {
    if (!WRITES.has(operation)) return run();
    const result = this.writing.then(run);
    this.writing = result.catch(() => undefined);
    return result;
  }

  private async dispatch(operation: string, input: Record<string, unknown>): Promise<unknown> {
    if (operation === 'UpdateTimeToLive') {
      // TTL deletes items in the background, eventually; the sandbox only records the setting.
      return { TimeToLiveSpecification: input.TimeToLiveSpecification };
    }
    if (operation === 'TransactWriteItems') return this.transactWriteItems(input);
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement DynamoDB ${operation}`);
    }
    const name = operation.charAt(0).toLowerCase() + operation.slice(1);
    const action = require(`dynalite/actions/${name}`) as Action;
    const validation = require(`dynalite/validations/${name}`) as Validation;
    // dynalite knows no streams, and its type check drops what it does not know from the request.
    const original = operation === 'CreateTable' ? structuredClone(input) : input;
    let data: Record<string, unknown>;
    try {
      data = dynaliteValidations.checkTypes(input, validation.types);
      dynaliteValidations.checkValidations(data, validation.types, validation.custom, this.store);
    } catch (error) {
      throw toAwsError(error as DynaliteError);
    }
    const result = await new Promise<unknown>((resolve, reject) => {
      action(this.store, data, (error, value) => (error ? reject(toAwsError(error)) : resolve(value)));
    });
    if (operation === 'CreateTable') {
      this.definitions.set(String(input.TableName), original);
      this.createStream(original);
    }
    if ((operation === 'DescribeTable' || operation === 'CreateTable') && this.streams.has(String(input.TableName))) {
      return withStream(plain(result), this.streams.get(String(input.TableName)) as TableStream);
    }
    return plain(result);
  }

  /**
   * TransactWriteItems as the API Reference documents it: up to 100 actions (Put,
   * Update, Delete, ConditionCheck), no two on the same item; every condition is
   * checked first, and if any fails nothing is written and the call fails with
   * TransactionCanceledException, whose CancellationReasons has one entry per
   * action in request order (`ConditionalCheckFailed`, else `None`). Runs in the
   * write queue, so no other write lands between the checks and the writes.
   */
  private async transactWriteItems(input: Record<string, unknown>): Promise<unknown> {
    const items = input.TransactItems;
    if (!Array.isArray(items) || items.length === 0 || items.length > 100) {
      throw new SimulatedAwsError(
        'ValidationException',
        `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1`,
      );
    }
    const db = require('dynalite/db') as DynaliteDb;
    const store = this.store as DynaliteStore;
    const actions: { kind: TransactAction; request: Record<string, unknown>; data: Record<string, unknown>; key: string }[] = [];
    const keys = new Set<string>();
    for (const item of items as Record<string, Record<string, unknown>>[]) {
      const kinds = Object.keys(item).filter((k): k is TransactAction => k in TRANSACT_ACTIONS);
      const [kind] = kinds;
      if (kinds.length !== 1 || kind === undefined) {
        throw new SimulatedAwsError('ValidationException', 'TransactItems can only contain one of Check, Put, Update or Delete');
      }
      const name = TRANSACT_ACTIONS[kind];
      const validation = require(`dynalite/validations/${name}`) as Validation;
      const { ReturnValuesOnConditionCheckFailure: _returnValues, ...single } = item[kind] as Record<string, unknown>;
      let data: Record<string, unknown>;
      try {
        data = dynaliteValidations.checkTypes(single, validation.types);
        dynaliteValidations.checkValidations(data, validation.types, validation.custom, this.store);
      } catch (error) {
        throw toAwsError(error as DynaliteError);
      }
      const tableName = String(data.TableName);
      const table = await new Promise<unknown>((resolve, reject) => store.getTable(tableName, (error, t) => (error ? reject(toAwsError(error)) : resolve(t))));
      const key = db.createKey(kind === 'Put' ? data.Item : data.Key, table);
      if (keys.has(`${tableName}\u0000${key}`))
        throw new SimulatedAwsError('ValidationException', 'Transaction request cannot include multiple operations on one item');
      keys.add(`${tableName}\u0000${key}`);
      actions.push({ kind, request: item[kind] as Record<string, unknown>, data, key });
    }
    const reasons: Record<string, unknown>[] = [];
    for (const action of actions) {
      const existing = await new Promise<unknown>((resolve, reject) =>
        store.getItemDb(String(action.data.TableName)).get(action.key, (error, item) => {
          if (error && error.name !== 'NotFoundError') reject(error);
          else resolve(error ? undefined : item);
        }),
      );
      const failed = db.checkConditional(action.data, existing);
      reasons.push(
        failed
          ? {
              Code: 'ConditionalCheckFailed',
              Message: 'The conditional request failed',
              ...(action.request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing ? { Item: plain(existing) } : {}),
            }
          : { Code: 'None' },
      );
    }
    if (reasons.some((r) => r.Code !== 'None')) {
      const codes = reasons.map((r) => String(r.Code)).join(', ');
      throw new SimulatedAwsError(
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
        400,
        'client',
        { CancellationReasons: reasons, Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]` },
      );
    }
    for (const { kind, request } of actions) {
      if (kind === 'ConditionCheck') continue;
      const { ReturnValuesOnConditionCheckFailure: _returnValues, ...single } = request;
      await this.dispatch(kind === 'Put' ? 'PutItem' : kind === 'Update' ? 'UpdateItem' : 'DeleteItem', single);
    }
    return {};
  }

  async snapshot(): Promise<TableSnapshot[]> {
    const tables: TableSnapshot[] = [];
    for (const [name, definition] of this.definitions) {
      const items: Record<string, unknown>[] = [];
      let startKey: unknown;
      do {
        const page = (await this.handle('Scan', { TableName: name, ...(startKey ? { ExclusiveStartKey: startKey } : {}) })) as {
          Items?: Record<string, unknown>[];
          LastEvaluatedKey?: unknown;
        };
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      tables.push({ definition, items });
    }
    return tables;
  }

  /** Puts saved items back as they were: a restore is not a write, so the tables' streams carry nothing. */
  async restoreItems(tableName: string, items: readonly Record<string, unknown>[]): Promise<void> {
    for (const item of items) await this.execute('PutItem', { TableName: tableName, Item: item });
  }

  async restore(tables: readonly TableSnapshot[]): Promise<void> {
    for (const table of tables) {
      await this.handle('CreateTable', table.definition);
      for (const item of table.items) await this.handle('PutItem', { TableName: table.definition.TableName, Item: item });
    }
  }
}

/** DescribeTable and CreateTable name the table's stream. */
function withStream(result: unknown, stream: TableStream): unknown {
  const output = result as { TableDescription?: Record<string, unknown>; Table?: Record<string, unknown> };
  const description = output.TableDescription ?? output.Table;
  if (description) {
    Object.assign(description, {
      StreamSpecification: { StreamEnabled: true, StreamViewType: stream.viewType },
      LatestStreamArn: stream.arn,
      LatestStreamLabel: stream.label,
    });
  }
  return output;
}

function toAwsError(error: DynaliteError): Error {
  if (!error?.body) return error as unknown as Error;
  const code = (error.body.__type ?? 'InternalServerError').split('#').pop() ?? 'InternalServerError';
  return new SimulatedAwsError(code, error.body.message ?? error.body.Message ?? code, error.statusCode ?? 400);
}

/** dynalite builds some maps without a prototype; give callers ordinary objects. */
function plain(value: unknown): unknown {
  return value === undefined ? {} : (JSON.parse(JSON.stringify(value)) as unknown);
}
