/** Step Functions executions as the handlers name, start and recognise them (functions/shared/domain/executions.ts). */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deployedServiceOf, eventExecutionName, executionName, isExecutionOf, startNamedExecution } from '../../../functions/shared/domain/executions';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';

const DEPLOY = testConfig.stateMachineArns.deploy;
const deployExecution = (name: string) => `${DEPLOY.replace(':stateMachine:', ':execution:')}:${name}`;

let deps: TestDeps;
let sfn: AwsClientStub<SFNClient>;

beforeEach(() => {
  deps = testDeps();
  sfn = mockClient(deps.clients.sfn);
});

describe('names', () => {
  it('takes the name from an execution ARN', () => {
    expect(executionName(deployExecution('order-gateway-1'))).toBe('order-gateway-1');
  });

  it('names an execution after its event, in the characters and length Step Functions allows', () => {
    expect(eventExecutionName('alarm', 'a1b2:c3/d4')).toBe('alarm-a1b2-c3-d4');
    expect(eventExecutionName('rotation', 'e'.repeat(100))).toHaveLength(80);
  });
});

describe('isExecutionOf', () => {
  it("recognises the state machine's own executions only", () => {
    expect(isExecutionOf(DEPLOY, deployExecution('order-gateway-1'))).toBe(true);
    expect(isExecutionOf(DEPLOY, deployExecution('order-gateway-1').replace('-deploy:', '-rollback:'))).toBe(false);
    // A state machine whose name starts with the deploy one's is another state machine.
    expect(isExecutionOf(DEPLOY, deployExecution('x').replace('-deploy:', '-deploy-canary:'))).toBe(false);
  });
});

describe('deployedServiceOf', () => {
  it("names the fleet service of a deploy execution's input", () => {
    expect(deployedServiceOf(deps.fleet, JSON.stringify({ service: 'order-gateway', image: 'x' }))?.id).toBe('order-gateway');
  });

  it.each([
    ['no input', undefined],
    ['input that is not JSON', 'deploy order-gateway'],
    ['JSON null', 'null'],
    ['a service the fleet does not have', JSON.stringify({ service: 'options-pricer' })],
    ['an inherited key', JSON.stringify({ service: 'constructor' })],
    ['a service that is not a string', JSON.stringify({ service: 7 })],
  ])('names none for %s', (_case, input) => {
    expect(deployedServiceOf(deps.fleet, input)).toBeUndefined();
  });
});

describe('startNamedExecution', () => {
  it('starts the execution under the name, with the input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: deployExecution('alarm-1'), startDate: new Date() });

    await expect(startNamedExecution(deps, DEPLOY, 'alarm-1', { service: 'order-gateway' })).resolves.toMatchObject({
      executionArn: deployExecution('alarm-1'),
    });

    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: DEPLOY, name: 'alarm-1', input: '{"service":"order-gateway"}' });
  });

  it('answers undefined when the name was already used', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    await expect(startNamedExecution(deps, DEPLOY, 'alarm-1', {})).resolves.toBeUndefined();
  });

  it('passes any other error on', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    sfn.on(StartExecutionCommand).rejects(denied);

    await expect(startNamedExecution(deps, DEPLOY, 'alarm-1', {})).rejects.toBe(denied);
  });
});
