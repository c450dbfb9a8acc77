/**
 * Step Functions as documented: terminal errors, payload and history quotas,
 * ListExecutions / GetExecutionHistory pagination and the history event types.
 * Each test names the page it holds the sandbox to.
 */
import {
  GetExecutionHistoryCommand,
  type HistoryEvent as SdkHistoryEvent,
  HistoryEventType,
  ListExecutionsCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { openSandbox } from '../support/sandbox';

const ERROR_HANDLING = 'https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html';
const QUOTAS = 'https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html';
const LIST_EXECUTIONS = 'https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html';
const HISTORY_EVENT = 'https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html';

const KIB_300 = 'x'.repeat(300 * 1024);
const definition = (value: object): StateMachineDefinition => value as unknown as StateMachineDefinition;
const catchAll = [{ ErrorEquals: ['States.ALL'], Next: 'Recovered' }];
const retryAll = [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2, IntervalSeconds: 1 }];

/** A function `name` in the sandbox; returns how often it ran. */
function fn(sandbox: Sandbox, name: string, handler: (event: unknown) => Promise<unknown>): { readonly arn: string; calls: () => number } {
  let calls = 0;
  const arn = sandbox.lambda.createFunction({
    functionName: name,
    timeoutSeconds: 30,
    handler: async (event) => {
      calls += 1;
      return handler(event);
    },
  });
  return { arn, calls: () => calls };
}

const invoke = (functionArn: string, extra: object = {}): object => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: functionArn, 'Payload.$': '$' },
  ...extra,
});

/** These state machines and functions are made here, outside the stack: they have no role, so IAM is off (this file is about Step Functions' own rules). */
const openAdHoc = (): Promise<Sandbox> => openSandbox(undefined, undefined, { iam: 'off' });

async function run(sandbox: Sandbox, name: string, machine: object, input: object = {}) {
  const arn = sandbox.stepFunctions.createStateMachine(name, definition(machine));
  const { executionArn } = await sandbox.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify(input) }));
  return sandbox.runExecution(executionArn ?? '');
}

describe(`States.Runtime and States.DataLimitExceeded are terminal: "States.ALL ... can't catch" them (${ERROR_HANDLING})`, () => {
  it('a States.Runtime error in a Task is neither retried nor caught by States.ALL', async () => {
    const sandbox = await openAdHoc();
    const f = fn(sandbox, 'test-ok', async () => ({ ok: true }));
    const record = await run(sandbox, 'test-runtime', {
      StartAt: 'Bad path',
      States: {
        'Bad path': invoke(f.arn, { InputPath: '$.missing', Retry: retryAll, Catch: catchAll, End: true }),
        Recovered: { Type: 'Pass', End: true },
      },
    });
    expect(record).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(f.calls()).toBe(0);
    expect(record.history.some((e) => e.stateName === 'Recovered')).toBe(false);
  });

  it('an integration the sandbox cannot run fails the execution with States.Runtime, past a Catch on States.ALL', async () => {
    const sandbox = await openAdHoc();
    const record = await run(sandbox, 'test-unknown-integration', {
      StartAt: 'Put item',
      States: {
        'Put item': {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:putItem',
          Parameters: { TableName: 't', Item: {} },
          Retry: retryAll,
          Catch: catchAll,
          End: true,
        },
        Recovered: { Type: 'Pass', End: true },
      },
    });
    expect(record).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(record.history.filter((e) => e.type === 'TaskScheduled')).toHaveLength(1);
  });

  it("a function's own error is still caught by States.ALL (the contrast)", async () => {
    const sandbox = await openAdHoc();
    const f = fn(sandbox, 'test-throws', async () => {
      throw Object.assign(new Error('boom'), { name: 'DeployFailedError' });
    });
    const record = await run(sandbox, 'test-caught', {
      StartAt: 'Throw',
      States: { Throw: invoke(f.arn, { Catch: catchAll, End: true }), Recovered: { Type: 'Pass', End: true } },
    });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.history.map((e) => e.type)).toContain('PassStateEntered');
  });

  it(`a task result over 256 KiB fails the execution with States.DataLimitExceeded, not retried, not caught (${QUOTAS})`, async () => {
    const sandbox = await openAdHoc();
    const f = fn(sandbox, 'test-big-result', async () => ({ blob: KIB_300 }));
    const record = await run(sandbox, 'test-big-result', {
      StartAt: 'Big',
      States: { Big: invoke(f.arn, { Retry: retryAll, Catch: catchAll, End: true }), Recovered: { Type: 'Pass', End: true } },
    });
    expect(record).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(record.cause).toMatch(/returned a result with a size exceeding the maximum number of bytes service limit/);
    expect(f.calls()).toBe(1);
  });

  it('a state whose output passes 256 KiB fails the execution before the next state runs', async () => {
    const sandbox = await openAdHoc();
    const half = fn(sandbox, 'test-half', async () => 'y'.repeat(150 * 1024));
    const next = fn(sandbox, 'test-next', async () => ({}));
    const record = await run(sandbox, 'test-big-state', {
      StartAt: 'Half',
      States: {
        Half: invoke(half.arn, { ResultSelector: { 'p.$': '$.Payload' }, Next: 'Double' }),
        Double: { Type: 'Pass', Parameters: { 'a.$': '$.p', 'b.$': '$.p' }, Next: 'After' },
        After: invoke(next.arn, { End: true }),
      },
    });
    expect(record).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(record.cause).toContain("'Double'");
    expect(next.calls()).toBe(0);
    expect(record.history.at(-1)?.type).toBe('ExecutionFailed');
  });

  it('StartExecution and SendTaskSuccess refuse a payload over 262,144 bytes with ValidationException', async () => {
    const sandbox = await openAdHoc();
    const arn = sandbox.stepFunctions.createStateMachine('test-input', definition({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }));
    await expect(sandbox.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ blob: KIB_300 }) }))).rejects.toMatchObject(
      { name: 'ValidationException' },
    );
    await expect(sandbox.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: 'any', output: JSON.stringify(KIB_300) }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});

describe(`history: 25,000 events per execution (${QUOTAS})`, () => {
  it('fails the execution with States.Runtime when its history reaches 25,000 events', async () => {
    const sandbox = await openAdHoc();
    const record = await run(
      sandbox,
      'test-history-limit',
      {
        StartAt: 'Count',
        States: {
          Count: { Type: 'Pass', Next: 'Again' },
          Again: { Type: 'Choice', Choices: [{ Variable: '$.forever', BooleanEquals: true, Next: 'Count' }], Default: 'Done' },
          Done: { Type: 'Succeed' },
        },
      },
      { forever: true },
    );
    expect(record).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: 'The execution reached the maximum number of history events (25000).' });
    expect(record.history).toHaveLength(25_000);
    expect(record.history.at(-1)?.type).toBe('ExecutionFailed');
  });
});

describe(`history event types are the SDK's HistoryEventType (${HISTORY_EVENT})`, () => {
  it('names every event as AWS does: retries are another TaskScheduled, catches the next state entered', async () => {
    const sandbox = await openAdHoc();
    let attempts = 0;
    const flaky = fn(sandbox, 'test-flaky', async () => {
      attempts += 1;
      if (attempts === 1) throw Object.assign(new Error('try again'), { name: 'TransientError' });
      return { attempts };
    });
    const fails = fn(sandbox, 'test-fails', async () => {
      throw Object.assign(new Error('no'), { name: 'PermanentError' });
    });
    const record = await run(
      sandbox,
      'test-history-types',
      {
        StartAt: 'Flaky',
        States: {
          Flaky: invoke(flaky.arn, { Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 1 }], ResultPath: null, Next: 'Fails' }),
          Fails: invoke(fails.arn, { Catch: [{ ErrorEquals: ['PermanentError'], Next: 'Each', ResultPath: null }], End: true }),
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
            ResultPath: null,
            Next: 'Both',
          },
          Both: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Left', States: { Left: { Type: 'Wait', Seconds: 1, End: true } } },
              { StartAt: 'Right', States: { Right: { Type: 'Pass', End: true } } },
            ],
            ResultPath: null,
            Next: 'Choose',
          },
          Choose: { Type: 'Choice', Choices: [{ Variable: '$.items[0]', NumericEquals: 1, Next: 'Stop' }], Default: 'Done' },
          Stop: { Type: 'Fail', Error: 'Stopped', Cause: 'by choice' },
          Done: { Type: 'Succeed' },
        },
      },
      { items: [1, 2] },
    );

    expect(record).toMatchObject({ status: 'FAILED', error: 'Stopped' });
    const known = new Set<string>(Object.values(HistoryEventType));
    expect(record.history.map((e) => e.type).filter((t) => !known.has(t))).toEqual([]);
    const of = (state: string): string[] => record.history.filter((e) => e.stateName === state).map((e) => e.type);
    expect(of('Flaky')).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    expect(of('Fails')).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskStateExited']);
    expect(of('Each')).toEqual([
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'MapIterationStarted',
      'MapIterationSucceeded',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
    ]);
    expect(of('Both')).toEqual(['ParallelStateEntered', 'ParallelStateStarted', 'ParallelStateSucceeded', 'ParallelStateExited']);
    expect(of('Stop')).toEqual(['FailStateEntered']);
    expect(record.history.at(-1)?.type).toBe('ExecutionFailed');

    const { events = [] } = await sandbox.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn: record.executionArn, maxResults: 1000 }));
    const failed = events.find((e: SdkHistoryEvent) => e.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'TransientError',
      cause: expect.stringContaining('try again'),
    });
    expect(events[1]?.previousEventId).toBe(events[0]?.id);
    expect(events.find((e) => e.type === 'TaskStateEntered')?.stateEnteredEventDetails?.name).toBe('Flaky');
  });

  it('a Task that times out records TaskTimedOut', async () => {
    const sandbox = await openAdHoc();
    const slow = fn(sandbox, 'test-slow', () => new Promise((resolve) => setTimeout(() => resolve({}), 20_000)));
    const record = await run(sandbox, 'test-timeout', { StartAt: 'Slow', States: { Slow: invoke(slow.arn, { TimeoutSeconds: 5, End: true }) } });
    expect(record.error).toBe('States.Timeout');
    expect(record.history.find((e) => e.type === 'TaskTimedOut')).toMatchObject({ stateName: 'Slow', detail: { error: 'States.Timeout' } });
  });
});

describe(`pagination: "The default is 100 and the maximum allowed page size is 1000" (${LIST_EXECUTIONS})`, () => {
  it('ListExecutions pages with nextToken, newest first, and GetExecutionHistory pages too', async () => {
    const sandbox = await openAdHoc();
    const arn = sandbox.stepFunctions.createStateMachine('test-many', definition({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }));
    for (let i = 0; i < 1050; i += 1) {
      sandbox.stepFunctions.startExecution(arn, '{}', `run-${String(i).padStart(4, '0')}`);
      await sandbox.clock.advance(10);
    }
    await sandbox.clock.settle();
    const list = (input: { maxResults?: number; nextToken?: string }) =>
      sandbox.clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, ...input }));

    const first = await list({});
    expect(first.executions).toHaveLength(100);
    expect(first.executions?.[0]?.name).toBe('run-1049');
    expect(first.nextToken).toBeDefined();

    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await list({ maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
      names.push(...(page.executions ?? []).map((e) => e.name ?? ''));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken);
    expect(pages).toBe(2);
    expect(new Set(names).size).toBe(1050);

    await expect(list({ maxResults: 1001 })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(list({ nextToken: 'not-a-token' })).rejects.toMatchObject({ name: 'InvalidToken' });

    const history = await sandbox.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn: first.executions?.[0]?.executionArn, maxResults: 2 }));
    expect(history.events?.map((e) => e.type)).toEqual(['ExecutionStarted', 'PassStateEntered']);
    expect(history.events?.[0]?.executionStartedEventDetails).toMatchObject({ input: '{}', inputDetails: { truncated: false } });
    const rest = await sandbox.clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: first.executions?.[0]?.executionArn, maxResults: 2, nextToken: history.nextToken }),
    );
    expect(rest.events?.map((e) => e.type)).toEqual(['PassStateExited', 'ExecutionSucceeded']);
    expect(rest.nextToken).toBeUndefined();
    expect(rest.events?.[1]?.executionSucceededEventDetails).toMatchObject({ output: '{}' });
  });
});
