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

export interface TableSnapshot {
  readonly definition: Record<string, unknown>;
  readonly items: Record<string, unknown>[];
}

export class SimulatedDynamoDb implements SimulatedService {
  private readonly store: unknown;
  private readonly definitions = new Map<string, Record<string, unknown>>();

  constructor() {
    const db = require('dynalite/db') as { create(options: object): unknown };
    this.store = db.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    if (operation === 'UpdateTimeToLive') {
      // TTL deletes items in the background, eventually; the sandbox only records the setting.
      return { TimeToLiveSpecification: input.TimeToLiveSpecification };
    }
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
