/**
 * The middy wrapper every handler shares (functions/shared/runtime/handler.ts) and the client
 * middleware that turns throttling and 5xx errors into AwsTransientError
 * (functions/shared/runtime/clients.ts).
 */
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ECSClient, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import type { Pluggable } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { acquireDeployLock } from '../../../functions/acquire-deploy-lock/core';
import { handleDeploymentEvent } from '../../../functions/handle-deployment-event/core';
import { deploymentWaitKey, storeTaskToken } from '../../../functions/shared/domain/task-callbacks';
import { createAwsClients } from '../../../functions/shared/runtime/clients';
import { AwsTransientError, InvalidDeployRequestError, InvalidInputError } from '../../../functions/shared/runtime/errors';
import { createHandler, defineHandler } from '../../../functions/shared/runtime/handler';
import { validateDeployRequest } from '../../../functions/validate-deploy-request/core';
import { EXECUTION_ID, lambdaContext, type TestDeps, testDeps } from '../../support/handler-deps';
import { buildPlan, deploymentEvent, FakeCallbackTable } from './builders';

let deps: TestDeps;

beforeEach(() => {
  deps = testDeps();
});

/** A minimal definition to exercise the wrapper on its own. */
const probe = (core: (input: { count: number }) => Promise<unknown>) =>
  defineHandler({
    name: 'probe',
    description: 'test probe',
    clients: [],
    input: z.object({ executionId: z.string(), count: z.number().int() }),
    core: async (input) => core(input),
  });

describe('createHandler: input', () => {
  it('rejects invalid input with InvalidInputError naming every bad field, before any AWS call', async () => {
    const ddb = mockClient(deps.clients.dynamodb);
    const handler = createHandler(acquireDeployLock, deps);
    const { cluster: _cluster, ...planWithoutCluster } = buildPlan();

    const error = await handler({ plan: { ...planWithoutCluster, lockLeaseSeconds: 0 } }, lambdaContext()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ name: 'InvalidInputError' });
    const message = (error as Error).message;
    expect(message).toMatch(/^Invalid input to acquire-deploy-lock: /);
    expect(message).toMatch(/executionId: /);
    expect(message).toMatch(/plan\.cluster: /);
    expect(message).toMatch(/plan\.lockLeaseSeconds: /);
    expect(message.split('; ')).toHaveLength(3);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('raises InvalidInputError for any handler, without running the core', async () => {
    const core = vi.fn(async () => 'ran');
    const handler = createHandler(probe(core), deps);

    const error = await handler({ executionId: EXECUTION_ID, count: 1.5 }, lambdaContext()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/^Invalid input to probe: count: /);
    expect((error as Error).cause).toBeInstanceOf(z.ZodError);
    expect(core).not.toHaveBeenCalled();
  });

  it('names the whole input when it is not an object', async () => {
    const handler = createHandler(
      probe(async () => 'ran'),
      deps,
    );

    await expect(handler('not an event', lambdaContext())).rejects.toThrow(/^Invalid input to probe: \(input\): /);
  });

  it('passes the parsed input, with schema defaults, to the core', async () => {
    const ddb = mockClient(deps.clients.dynamodb);
    mockClient(deps.clients.sfn);
    const table = new FakeCallbackTable(ddb);
    const event = { ...deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', { updatedAt: new Date().toISOString() }), time: new Date().toISOString() };
    const { reason: _reason, ...detailWithoutReason } = event.detail;
    // A deploy of the service awaits the deployment: only then is its outcome stored.
    await storeTaskToken(deps, deploymentWaitKey(event.detail.deploymentId), 'token', { service: 'order-gateway', notBefore: '2025-07-05T12:00:00.000Z' });

    await createHandler(handleDeploymentEvent, deps)({ ...event, detail: detailWithoutReason }, lambdaContext());

    expect(table.item(`deployment#${event.detail.deploymentId}`)?.outcome).toMatchObject({ status: 'COMPLETED', reason: '' });
  });

  it('rejects an ECS event whose deployment id is malformed', async () => {
    const event = deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', { deploymentId: 'deployment-7' });

    await expect(createHandler(handleDeploymentEvent, deps)(event, lambdaContext())).rejects.toThrow(
      /^Invalid input to handle-deployment-event: detail\.deploymentId: must look like ecs-svc\/<digits>$/,
    );
  });

  it('leaves a malformed deploy request to validate-deploy-request, which names the field', async () => {
    mockClient(deps.clients.dynamodb).on(PutItemCommand).resolves({});

    await expect(
      createHandler(validateDeployRequest, deps)({ executionId: EXECUTION_ID, request: { service: 'order-gateway' } }, lambdaContext()),
    ).rejects.toThrow(
      new InvalidDeployRequestError(
        'Invalid deploy request: image: Invalid input: expected string, received undefined; requestedBy: Invalid input: expected string, received undefined',
      ),
    );
  });
});

describe('createHandler: errors', () => {
  it('re-throws the core error unchanged and logs it', async () => {
    const failure = new InvalidDeployRequestError('nope');
    const logged = vi.spyOn(deps.logger, 'error');

    await expect(
      createHandler(
        probe(async () => Promise.reject(failure)),
        deps,
      )({ executionId: EXECUTION_ID, count: 1 }, lambdaContext()),
    ).rejects.toBe(failure);

    expect(logged).toHaveBeenCalledWith('probe failed', { error: { name: 'InvalidDeployRequestError', message: 'nope' } });
  });

  it("returns the core's result and uses the execution as the correlation id", async () => {
    const correlation = vi.spyOn(deps.logger, 'setCorrelationId');

    await expect(
      createHandler(
        probe(async ({ count }) => count * 2),
        deps,
      )({ executionId: EXECUTION_ID, count: 21 }, lambdaContext()),
    ).resolves.toBe(42);

    expect(correlation).toHaveBeenCalledWith(EXECUTION_ID);
  });
});

describe('createAwsClients: transient AWS errors', () => {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

  /**
   * A plugin that fails every request as the service would, after the client's own
   * middleware has run. (aws-sdk-client-mock replaces `send`, which skips the
   * middleware stack, so the conversion must be exercised below `send`.)
   */
  const failingWith = (error: () => Error): Pluggable<object, object> => ({
    applyToStack(stack) {
      stack.add(
        () => async () => {
          throw error();
        },
        { step: 'build', name: 'testServiceFault' },
      );
    },
  });

  const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

  const dynamodbFailingWith = (error: () => Error) =>
    createAwsClients({ dynamodb: DynamoDBClient }, { region: 'eu-west-2', credentials, plugins: [failingWith(error)] }).dynamodb;

  const putItem = () => new PutItemCommand({ TableName: 'audit', Item: { pk: { S: 'x' } } });

  it('turns a throttling error into AwsTransientError naming the operation and the cause', async () => {
    const error = await dynamodbFailingWith(throttling)
      .send(putItem())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AwsTransientError);
    expect(error).toMatchObject({
      name: 'AwsTransientError',
      operation: 'DynamoDBClient.PutItemCommand',
      causeName: 'ThrottlingException',
      message: 'DynamoDBClient.PutItemCommand failed transiently (ThrottlingException): Rate exceeded',
    });
    expect((error as Error).cause).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
  });

  it.each([
    ['a 5xx status', () => Object.assign(new Error('We encountered an internal error'), { name: 'SomethingBroke', $metadata: { httpStatusCode: 503 } })],
    ['a 429 status', () => Object.assign(new Error('Too many'), { name: 'Whatever', $metadata: { httpStatusCode: 429 } })],
    ['a named server error', () => Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } })],
    ['a connection reset', () => Object.assign(new Error('socket hang up'), { name: 'ECONNRESET' })],
  ])('treats %s as transient', async (_case, error) => {
    await expect(dynamodbFailingWith(error).send(putItem())).rejects.toMatchObject({ name: 'AwsTransientError' });
  });

  it('passes other errors through unchanged', async () => {
    const conditionFailed = new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });

    await expect(dynamodbFailingWith(() => conditionFailed).send(putItem())).rejects.toBe(conditionFailed);
  });

  it('installs the conversion on every client it builds', async () => {
    const clients = createAwsClients({ dynamodb: DynamoDBClient, ecs: ECSClient }, { region: 'eu-west-2', credentials, plugins: [failingWith(throttling)] });

    await expect(clients.ecs.send(new DescribeServicesCommand({ cluster: 'trading-prod', services: ['order-gateway'] }))).rejects.toMatchObject({
      name: 'AwsTransientError',
      operation: 'ECSClient.DescribeServicesCommand',
    });
  });

  it('surfaces from a handler as AwsTransientError, the name the state machine retries on', async () => {
    const handler = createHandler(acquireDeployLock, { ...deps, clients: { dynamodb: dynamodbFailingWith(throttling) } });

    const error = await handler({ executionId: EXECUTION_ID, plan: buildPlan() }, lambdaContext()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AwsTransientError);
    expect((error as Error).name).toBe('AwsTransientError');
  });
});
