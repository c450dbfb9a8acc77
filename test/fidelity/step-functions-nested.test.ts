/**
 * Step Functions running Step Functions, as "Start a new AWS Step Functions
 * state machine from a running execution" documents it: `.sync:2` returns the
 * child's DescribeExecution with Input and Output as JSON (`.sync`: strings), a
 * child that fails fails the task with States.TaskFailed and the child's
 * description as the cause, stopping the parent stops the child, Map's
 * MaxConcurrency bounds the children running at once, and the parent's role
 * needs the managed rule's events permissions.
 */
import { createHash } from 'node:crypto';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { readRelease } from '../../functions/shared/domain/release';
import type { PolicyStatementJson } from '../../lib/sandbox/iam/policy-evaluator';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { fleetWith, openSandbox } from '../support/sandbox';

const NESTED = 'https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html';
const definition = (value: object): StateMachineDefinition => value as unknown as StateMachineDefinition;

/** Ad hoc state machines have no role in the stack: IAM off (the last test enforces it on the release state machine). */
const openAdHoc = (): Promise<Sandbox> => openSandbox(undefined, undefined, { iam: 'off' });

const child = (sandbox: Sandbox, name: string, states: object): string =>
  sandbox.stepFunctions.createStateMachine(name, definition({ StartAt: 'Only', States: { Only: states } }));

const parent = (sandbox: Sandbox, name: string, resource: string, childArn: string, extra: object = {}): string =>
  sandbox.stepFunctions.createStateMachine(
    name,
    definition({
      StartAt: 'Run child',
      States: {
        'Run child': { Type: 'Task', Resource: resource, Parameters: { StateMachineArn: childArn, Input: { 'value.$': '$.value' } }, End: true, ...extra },
        // Only a Catch reaches it (an unreachable state is an invalid definition).
        ...('Catch' in extra ? { Caught: { Type: 'Pass', End: true } } : {}),
      },
    }),
  );

async function run(sandbox: Sandbox, machineArn: string, input: object = { value: 7 }) {
  const { executionArn } = sandbox.stepFunctions.startExecution(machineArn, JSON.stringify(input));
  return sandbox.runExecution(executionArn);
}

describe(`Nested executions (${NESTED})`, () => {
  it('.sync:2 returns the child’s description with Input and Output as JSON; .sync as strings', async () => {
    const sandbox = await openAdHoc();
    const childArn = child(sandbox, 'child-ok', { Type: 'Pass', Parameters: { 'doubled.$': 'States.MathAdd($.value, $.value)' }, End: true });
    const v2 = await run(sandbox, parent(sandbox, 'parent-v2', 'arn:aws:states:::states:startExecution.sync:2', childArn));
    expect(v2.status).toBe('SUCCEEDED');
    const out = JSON.parse(v2.output ?? '{}') as Record<string, unknown>;
    expect(out).toMatchObject({
      Status: 'SUCCEEDED',
      StateMachineArn: childArn,
      Input: { value: 7 },
      Output: { doubled: 14 },
      OutputDetails: { Included: true },
    });
    expect(typeof out.StartDate).toBe('number');
    expect(String(out.ExecutionArn)).toContain(':execution:child-ok:');

    const v1 = await run(sandbox, parent(sandbox, 'parent-v1', 'arn:aws:states:::states:startExecution.sync', childArn));
    expect(JSON.parse(v1.output ?? '{}')).toMatchObject({ Input: '{"value":7}', Output: '{"doubled":14}' });

    const async = await run(sandbox, parent(sandbox, 'parent-async', 'arn:aws:states:::states:startExecution', childArn));
    expect(Object.keys(JSON.parse(async.output ?? '{}') as object).sort()).toEqual(['ExecutionArn', 'StartDate']);
  });

  it('a failed child fails the task with States.TaskFailed, the child’s error and cause in the cause', async () => {
    const sandbox = await openAdHoc();
    const childArn = child(sandbox, 'child-fails', { Type: 'Fail', Error: 'Boom', Cause: 'it broke' });
    const machine = parent(sandbox, 'parent-catches', 'arn:aws:states:::states:startExecution.sync:2', childArn, {
      Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'Caught' }],
    });
    const record = await run(sandbox, machine);
    expect(record.status).toBe('SUCCEEDED');
    const { failure } = JSON.parse(record.output ?? '{}') as { failure: { Error: string; Cause: string } };
    expect(failure.Error).toBe('States.TaskFailed');
    expect(JSON.parse(failure.Cause)).toMatchObject({ Status: 'FAILED', Error: 'Boom', Cause: 'it broke', Input: { value: 7 } });
  });

  it('stopping the parent stops the child it waits on', async () => {
    const sandbox = await openAdHoc();
    const childArn = child(sandbox, 'child-waits', { Type: 'Wait', Seconds: 3600, End: true });
    const machine = parent(sandbox, 'parent-stopped', 'arn:aws:states:::states:startExecution.sync:2', childArn);
    const { executionArn } = sandbox.stepFunctions.startExecution(machine, '{"value":1}');
    await sandbox.clock.advance(5_000);
    const [running] = sandbox.stepFunctions.listExecutionRecords(childArn);
    expect(running?.status).toBe('RUNNING');
    sandbox.stepFunctions.stopExecution(executionArn);
    await sandbox.clock.advance(1_000);
    expect(sandbox.stepFunctions.execution(executionArn)?.status).toBe('ABORTED');
    expect(sandbox.stepFunctions.execution(running?.executionArn ?? '')?.status).toBe('ABORTED');
  });

  it('a Map with MaxConcurrency 1 runs one child at a time, in item order', async () => {
    const sandbox = await openAdHoc();
    const childArn = child(sandbox, 'child-slow', { Type: 'Wait', Seconds: 10, End: true });
    const machine = sandbox.stepFunctions.createStateMachine(
      'parent-map',
      definition({
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            MaxConcurrency: 1,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'Run one',
              States: {
                'Run one': {
                  Type: 'Task',
                  Resource: 'arn:aws:states:::states:startExecution.sync:2',
                  Parameters: { StateMachineArn: childArn, Input: { 'value.$': '$' } },
                  End: true,
                },
              },
            },
            End: true,
          },
        },
      }),
    );
    const record = await run(sandbox, machine, { items: [1, 2, 3] });
    expect(record.status).toBe('SUCCEEDED');
    const children = sandbox.stepFunctions.listExecutionRecords(childArn).sort((a, b) => a.startDate - b.startDate);
    expect(children.map((c) => (JSON.parse(c.input) as { value: number }).value)).toEqual([1, 2, 3]);
    for (let i = 1; i < children.length; i++) expect(children[i]?.startDate).toBeGreaterThanOrEqual(children[i - 1]?.stopDate ?? Infinity);
  });

  it('without events:PutRule on the managed rule, the release state machine cannot run a deploy synchronously', async () => {
    let roleArn = '';
    const sandbox = await openSandbox(fleetWith(), undefined, {
      editPolicies: (policies) => {
        roleArn = policies.stateMachines['assure-prod-release']?.roleArn ?? '';
        const role = policies.roles[roleArn];
        if (!role) throw new Error('no release role');
        const drop = (s: PolicyStatementJson): PolicyStatementJson => ({
          ...s,
          Action: ([] as string[]).concat(s.Action ?? []).filter((a) => a !== 'events:PutRule'),
        });
        const documents = role.documents.map((d) => ({ ...d, Statement: ([] as PolicyStatementJson[]).concat(d.Statement).map(drop) }));
        return { ...policies, roles: { ...policies.roles, [roleArn]: { ...role, documents } } };
      },
    });
    const image = `${sandbox.fleet.services['market-data']?.imageRepository ?? ''}@sha256:${createHash('sha256').update('md').digest('hex')}`;
    const executionArn = await sandbox.startExecution('release', { services: { 'market-data': image }, requestedBy: 'me', reason: 'iam' });
    const record = await sandbox.runExecution(executionArn);
    expect(record.status).toBe('FAILED');
    const release = await readRelease(sandbox, executionArn.split(':').pop() ?? '');
    expect(release?.services['market-data']?.reason).toMatch(
      /StepFunctions\.AccessDeniedException .*is not authorized to perform: events:PutRule on resource: arn:aws:events:eu-west-2:111122223333:rule\/StepFunctionsGetEventsForStepFunctionsExecutionRule/,
    );
    expect(sandbox.stepFunctions.listExecutionRecords(sandbox.config.stateMachineArns.deploy)).toHaveLength(0);
  });
});
