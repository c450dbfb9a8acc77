/**
 * The control-state table (guard-rail claims) backed by the sandbox's dynalite
 * DynamoDB, behind an aws-sdk-client-mock stub: condition and update expressions
 * are evaluated as DynamoDB evaluates them, and a failed condition raises the
 * SDK's own ConditionalCheckFailedException. Only requests to the state table are
 * routed here; define the stub's generic answers before constructing this.
 */
import {
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { SimulatedAwsError } from '../../../lib/sandbox/aws-error';
import { toSdkError } from '../../../lib/sandbox/sdk-transport';
import { SimulatedDynamoDb } from '../../../lib/sandbox/simulated-dynamodb';
import { createTableInput, TABLE_LAYOUTS } from '../../../lib/tables';
import { testConfig } from '../../support/handler-deps';

export class SimulatedStateTable {
  private readonly db = new SimulatedDynamoDb();
  private readonly ready: Promise<unknown>;

  constructor(ddb: AwsClientStub<DynamoDBClient>) {
    this.ready = this.create();
    const table = { TableName: testConfig.stateTableName };
    ddb.on(PutItemCommand, table).callsFake((input: PutItemCommandInput) => this.call('PutItem', input));
    ddb.on(UpdateItemCommand, table).callsFake((input: UpdateItemCommandInput) => this.call('UpdateItem', input));
    ddb.on(DeleteItemCommand, table).callsFake((input: DeleteItemCommandInput) => this.call('DeleteItem', input));
    ddb.on(GetItemCommand, table).callsFake((input: GetItemCommandInput) => this.call('GetItem', input));
  }

  /** dynalite turns a new table ACTIVE on a (real) timer: wait for it. */
  private async create(): Promise<void> {
    await this.db.handle('CreateTable', createTableInput(testConfig.stateTableName, TABLE_LAYOUTS.stateTableName));
    for (;;) {
      const { Table } = (await this.db.handle('DescribeTable', { TableName: testConfig.stateTableName })) as { Table?: { TableStatus?: string } };
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** The stored item, unmarshalled; undefined when there is none. */
  async item(pk: string): Promise<Record<string, unknown> | undefined> {
    const result = (await this.call('GetItem', { TableName: testConfig.stateTableName, Key: marshall({ pk }), ConsistentRead: true })) as {
      Item?: Parameters<typeof unmarshall>[0];
    };
    return result.Item ? unmarshall(result.Item) : undefined;
  }

  /** Writes an item directly (no condition), e.g. an earlier claim or a spent budget. */
  async put(item: Record<string, unknown>): Promise<void> {
    await this.call('PutItem', { TableName: testConfig.stateTableName, Item: marshall(item) });
  }

  private async call(operation: string, input: object): Promise<unknown> {
    await this.ready;
    try {
      return await this.db.handle(operation, structuredClone(input) as Record<string, unknown>);
    } catch (error) {
      throw error instanceof SimulatedAwsError ? toSdkError('DynamoDBClient', error, 'test-request') : error;
    }
  }
}
