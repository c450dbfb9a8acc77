import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  type ECSClient,
  ListServiceDeploymentsCommand,
  type ListServiceDeploymentsCommandInput,
  StopServiceDeploymentCommand,
  type StopServiceDeploymentCommandInput,
} from '@aws-sdk/client-ecs';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandInput,
  ListExecutionsCommand,
  type ListExecutionsCommandInput,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Halt } from '../../../functions/shared/domain/halt-plan';
import { stopDeployExecutions } from '../../../functions/stop-deploy-executions/core';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { ACCOUNT, auditRecords, auditTrail, CLUSTER } from './builders';
import { buildHalt, HALT_EXECUTION_ID, HALT_ID } from './halt-builders';

const deployExecution = (name: string): string => `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-deploy:${name}`;
const serviceDeploymentArn = (service: string): string => `arn:aws:ecs:eu-west-2:${ACCOUNT}:service-deployment/${CLUSTER}/${service}/Kx9pPqR2sT4uV6wX`;

const ORDER_GATEWAY_DEPLOY = deployExecution('order-gateway-2-4-0');
const RISK_ENGINE_DEPLOY = deployExecution('risk-engine-7-1-0');
const REFERENCE_DATA_DEPLOY = deployExecution('reference-data-3-0-1');

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let ecs: AwsClientStub<ECSClient>;
/** The deploy state machine's RUNNING executions, listed over pages, and each one's input. */
let pages: { executionArn?: string }[][];
let inputs: Map<string, string>;
/** The ECS service deployments in flight, by ECS service name. */
let inFlight: Map<string, string>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2025-07-05T12:20:02.000Z'));
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  sfn = mockClient(deps.clients.sfn);
  ecs = mockClient(deps.clients.ecs);
  pages = [[{ executionArn: ORDER_GATEWAY_DEPLOY }], [{ executionArn: RISK_ENGINE_DEPLOY }]];
  inputs = new Map([
    [
      ORDER_GATEWAY_DEPLOY,
      JSON.stringify({ service: 'order-gateway', image: 'order-gateway:2.4.0', requestedBy: 'alice@example.com', reason: 'release 2.4.0' }),
    ],
    [RISK_ENGINE_DEPLOY, JSON.stringify({ service: 'risk-engine', image: 'risk-engine:7.1.0', requestedBy: 'bob@example.com', reason: 'release 7.1.0' })],
    [
      REFERENCE_DATA_DEPLOY,
      JSON.stringify({ service: 'reference-data', image: 'reference-data:3.0.1', requestedBy: 'bob@example.com', reason: 'release 3.0.1' }),
    ],
  ]);
  inFlight = new Map([['order-gateway', serviceDeploymentArn('order-gateway')]]);
  sfn.on(ListExecutionsCommand).callsFake((input: ListExecutionsCommandInput) => {
    const index = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
    return { executions: pages[index] ?? [], ...(index + 1 < pages.length ? { nextToken: `page-${index + 1}` } : {}) };
  });
  sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
  sfn.on(DescribeExecutionCommand).callsFake((input: DescribeExecutionCommandInput) => ({
    executionArn: input.executionArn,
    status: 'ABORTED',
    input: inputs.get(input.executionArn ?? ''),
  }));
  ecs.on(ListServiceDeploymentsCommand).callsFake((input: ListServiceDeploymentsCommandInput) => {
    const arn = inFlight.get(input.service ?? '');
    return { serviceDeployments: arn ? [{ serviceDeploymentArn: arn, status: 'IN_PROGRESS' }] : [] };
  });
  ecs.on(StopServiceDeploymentCommand).callsFake((input: StopServiceDeploymentCommandInput) => ({ serviceDeploymentArn: input.serviceDeploymentArn }));
});

afterEach(() => {
  vi.useRealTimers();
});

const stopDeploys = (halt: Halt = buildHalt()) => stopDeployExecutions.core({ executionId: HALT_EXECUTION_ID, halt }, deps);

describe('stop-deploy-executions', () => {
  it("lists the deploy state machine's RUNNING executions over every page and stops each as TradingHalted", async () => {
    const result = await stopDeploys();

    expect(result.stopped).toEqual([ORDER_GATEWAY_DEPLOY, RISK_ENGINE_DEPLOY]);
    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 2);
    expect(sfn).toHaveReceivedNthCommandWith(ListExecutionsCommand, 1, { stateMachineArn: testConfig.stateMachineArns.deploy, statusFilter: 'RUNNING' });
    expect(sfn).toHaveReceivedNthCommandWith(ListExecutionsCommand, 2, {
      stateMachineArn: testConfig.stateMachineArns.deploy,
      statusFilter: 'RUNNING',
      nextToken: 'page-1',
    });
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 2);
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: ORDER_GATEWAY_DEPLOY,
      error: 'TradingHalted',
      cause: `Halt ${HALT_ID}: ${buildHalt().reason}`,
    });
  });

  it('rolls back the ECS deployment a stopped execution left in flight, found from its input', async () => {
    const result = await stopDeploys();

    expect(result.rolledBack).toEqual(['order-gateway']);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: ORDER_GATEWAY_DEPLOY });
    expect(ecs).toHaveReceivedCommandWith(ListServiceDeploymentsCommand, {
      cluster: 'trading-prod',
      service: 'order-gateway',
      status: ['PENDING', 'IN_PROGRESS'],
    });
    expect(ecs).toHaveReceivedCommandTimes(StopServiceDeploymentCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(StopServiceDeploymentCommand, { serviceDeploymentArn: serviceDeploymentArn('order-gateway'), stopType: 'ROLLBACK' });
  });

  it('stops the execution before it rolls back its deployment, so the execution cannot act on it', async () => {
    await stopDeploys();

    const [stop] = sfn.commandCalls(StopExecutionCommand, { executionArn: ORDER_GATEWAY_DEPLOY });
    const [rollback] = ecs.commandCalls(StopServiceDeploymentCommand);
    expect(stop && rollback && stop.calledBefore(rollback)).toBe(true);
  });

  it('does not roll back a service with nothing in flight', async () => {
    inFlight.clear();

    await expect(stopDeploys()).resolves.toEqual({ stopped: [ORDER_GATEWAY_DEPLOY, RISK_ENGINE_DEPLOY], rolledBack: [] });

    expect(ecs).toHaveReceivedCommandTimes(ListServiceDeploymentsCommand, 2);
    expect(ecs).not.toHaveReceivedCommand(StopServiceDeploymentCommand);
  });

  it('rolls back every service with a deployment in flight, support services included', async () => {
    pages = [[{ executionArn: ORDER_GATEWAY_DEPLOY }, { executionArn: REFERENCE_DATA_DEPLOY }], [{ executionArn: RISK_ENGINE_DEPLOY }]];
    inFlight.set('reference-data', serviceDeploymentArn('reference-data'));
    inFlight.set('risk-engine', serviceDeploymentArn('risk-engine'));

    await expect(stopDeploys()).resolves.toEqual({
      stopped: [ORDER_GATEWAY_DEPLOY, REFERENCE_DATA_DEPLOY, RISK_ENGINE_DEPLOY],
      rolledBack: ['order-gateway', 'reference-data', 'risk-engine'],
    });
  });

  it('tolerates a deployment that finished between the listing and the stop (ConflictException)', async () => {
    inFlight.set('risk-engine', serviceDeploymentArn('risk-engine'));
    ecs
      .on(StopServiceDeploymentCommand, { serviceDeploymentArn: serviceDeploymentArn('order-gateway') })
      .rejects(new ConflictException({ message: 'The service deployment is in a terminal state', $metadata: {} }));

    await expect(stopDeploys()).resolves.toEqual({ stopped: [ORDER_GATEWAY_DEPLOY, RISK_ENGINE_DEPLOY], rolledBack: ['risk-engine'] });
  });

  it('fails, and records the failure, on any other ECS error', async () => {
    ecs
      .on(StopServiceDeploymentCommand)
      .rejects(Object.assign(new Error('User is not authorized to perform: ecs:StopServiceDeployment'), { name: 'AccessDeniedException' }));

    await expect(stopDeploys()).rejects.toThrow(/ecs:StopServiceDeployment/);

    expect(auditTrail(ddb)).toEqual(['halt.stop-deploys intent started', 'halt.stop-deploys outcome failed']);
    expect(auditRecords(ddb)[1]?.error).toMatchObject({ name: 'AccessDeniedException' });
  });

  it('stops an execution whose input names no fleet service, without touching ECS', async () => {
    inputs.set(ORDER_GATEWAY_DEPLOY, JSON.stringify({ service: 'options-pricer' }));
    inputs.set(RISK_ENGINE_DEPLOY, '{not json');

    await expect(stopDeploys()).resolves.toEqual({ stopped: [ORDER_GATEWAY_DEPLOY, RISK_ENGINE_DEPLOY], rolledBack: [] });

    expect(ecs).not.toHaveReceivedAnyCommand();
  });

  it('stops an execution without an input, or whose service is not a string, without touching ECS', async () => {
    inputs.delete(ORDER_GATEWAY_DEPLOY);
    inputs.set(RISK_ENGINE_DEPLOY, JSON.stringify({ service: ['risk-engine'] }));

    await expect(stopDeploys()).resolves.toEqual({ stopped: [ORDER_GATEWAY_DEPLOY, RISK_ENGINE_DEPLOY], rolledBack: [] });

    expect(ecs).not.toHaveReceivedAnyCommand();
  });

  it('rolls back the ECS service the fleet entry names, reporting the fleet service id', async () => {
    const orderGateway = deps.fleet.services['order-gateway'];
    if (!orderGateway) throw new Error('the example fleet has order-gateway');
    deps = { ...deps, fleet: { ...deps.fleet, services: { ...deps.fleet.services, 'order-gateway': { ...orderGateway, ecsServiceName: 'og-prod-v2' } } } };
    inFlight = new Map([['og-prod-v2', serviceDeploymentArn('og-prod-v2')]]);

    await expect(stopDeploys()).resolves.toMatchObject({ rolledBack: ['order-gateway'] });

    expect(ecs).toHaveReceivedCommandWith(ListServiceDeploymentsCommand, { service: 'og-prod-v2' });
  });

  it('skips a listed execution without an ARN', async () => {
    pages = [[{}, { executionArn: ORDER_GATEWAY_DEPLOY }]];

    await expect(stopDeploys()).resolves.toEqual({ stopped: [ORDER_GATEWAY_DEPLOY], rolledBack: ['order-gateway'] });

    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
  });

  it('stops nothing when no deploy is running', async () => {
    pages = [];

    await expect(stopDeploys()).resolves.toEqual({ stopped: [], rolledBack: [] });

    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 1);
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(ecs).not.toHaveReceivedAnyCommand();
  });

  it('records intent and outcome, with what it stopped and rolled back', async () => {
    await stopDeploys();

    expect(auditTrail(ddb)).toEqual(['halt.stop-deploys intent started', 'halt.stop-deploys outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      subject: 'fleet',
      actor: 'assure',
      executionId: HALT_EXECUTION_ID,
      reason: buildHalt().reason,
      after: { stopped: [ORDER_GATEWAY_DEPLOY, RISK_ENGINE_DEPLOY], rolledBack: ['order-gateway'] },
    });
  });
});
