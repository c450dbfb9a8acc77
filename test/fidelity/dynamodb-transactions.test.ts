/**
 * The simulated DynamoDB's TransactWriteItems against the API Reference: all
 * actions or none; a failed condition cancels the whole transaction with
 * TransactionCanceledException and one CancellationReason per action in
 * request order; no two actions on one item.
 */
import { GetItemCommand, TransactionCanceledException, TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { openSandbox } from '../support/sandbox';

describe('DynamoDB TransactWriteItems (simulated)', () => {
  it('writes every action, or none when a condition fails, naming which one', async () => {
    const sandbox = await openSandbox();
    const TableName = sandbox.config.lockTableName;
    const db = sandbox.clients.dynamodb;
    const put = (pk: string, extra: Partial<NonNullable<TransactWriteItem['Put']>> = {}): TransactWriteItem => ({
      Put: { TableName, Item: { pk: { S: pk }, v: { N: '1' } }, ConditionExpression: 'attribute_not_exists(pk)', ...extra },
    });
    const exists = async (pk: string): Promise<boolean> =>
      (await db.send(new GetItemCommand({ TableName, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item !== undefined;

    await db.send(new TransactWriteItemsCommand({ TransactItems: [put('tx-a'), put('tx-b')] }));
    expect([await exists('tx-a'), await exists('tx-b')]).toEqual([true, true]);

    const error = await db
      .send(new TransactWriteItemsCommand({ TransactItems: [put('tx-c'), put('tx-b', { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
    );
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: { pk: { S: 'tx-b' }, v: { N: '1' } } },
    ]);
    // Nothing of the cancelled transaction was written.
    expect(await exists('tx-c')).toBe(false);

    // ConditionCheck, Delete and Update in one transaction.
    await db.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { ConditionCheck: { TableName, Key: { pk: { S: 'tx-a' } }, ConditionExpression: 'attribute_exists(pk)' } },
          { Delete: { TableName, Key: { pk: { S: 'tx-b' } } } },
          { Update: { TableName, Key: { pk: { S: 'tx-d' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '2' } } } },
        ],
      }),
    );
    expect([await exists('tx-a'), await exists('tx-b'), await exists('tx-d')]).toEqual([true, false, true]);

    const twice = await db.send(new TransactWriteItemsCommand({ TransactItems: [put('tx-e'), put('tx-e')] })).catch((e: unknown) => e);
    expect(twice).toMatchObject({ name: 'ValidationException', message: 'Transaction request cannot include multiple operations on one item' });
  });
});
