/**
 * DynamoDB, backed in-process by dynalite (a DynamoDB implementation on LevelDB):
 * the same request validation, condition and update expressions, and error types
 * as the real service.
 */
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

export interface TableSnapshot {
  readonly definition: Record<string, unknown>;
  readonly items: Record<string, unknown>[];
}

export class SimulatedDynamoDb implements SimulatedService {
  private readonly store: unknown;
  private readonly definitions = new Map<string, Record<string, unknown>>();
  /** The tail of the queue of writes (see WRITES). */
  private writing: Promise<unknown> = Promise.resolve();

  constructor() {
    const db = require('dynalite/db') as { create(options: object): unknown };
    this.store = db.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    if (operation === 'UpdateTimeToLive') {
      // TTL deletes items in the background, eventually; the sandbox only records the setting.
      return { TimeToLiveSpecification: input.TimeToLiveSpecification };
    }
    if (WRITES.has(operation)) {
      const result = this.writing.then(() => this.dispatch(operation, input));
      this.writing = result.catch(() => undefined);
      return result;
    }
    return this.dispatch(operation, input);
  }

  private async dispatch(operation: string, input: Record<string, unknown>): Promise<unknown> {
    if (operation === 'TransactWriteItems') return this.transactWriteItems(input);
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement DynamoDB ${operation}`);
    }
    const name = operation.charAt(0).toLowerCase() + operation.slice(1);
    const action = require(`dynalite/actions/${name}`) as Action;
    const validation = require(`dynalite/validations/${name}`) as Validation;
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
    if (operation === 'CreateTable') this.definitions.set(String(input.TableName), structuredClone(input));
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

  async restore(tables: readonly TableSnapshot[]): Promise<void> {
    for (const table of tables) {
      await this.handle('CreateTable', table.definition);
      for (const item of table.items) await this.handle('PutItem', { TableName: table.definition.TableName, Item: item });
    }
  }
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
