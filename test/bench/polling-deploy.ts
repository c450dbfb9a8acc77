/**
 * The polling baseline: the same deploy state machine with its event-driven wait
 * replaced by the classic loop (Wait 15 s → DescribeServices → Choice).
 */
import { readAsl } from '../../lib/workflows/asl';
import { deployWorkflow } from '../../lib/workflows/deploy-workflow';

export const POLL_INTERVAL_SECONDS = 15;

type AslState = Record<string, unknown>;

export function pollingDeployDefinition(): { asl: string; placeholders: string[] } {
  const definition = JSON.parse(readAsl(deployWorkflow.aslFile)) as { States: Record<string, AslState> };
  const states = definition.States;
  const wait = states['Wait for deployment outcome'] as AslState;
  const retry = (states['Start deployment'] as { Retry: unknown }).Retry;
  delete states['Wait for deployment outcome'];
  (states['Start deployment'] as AslState).Next = 'Wait before polling';
  states['Wait before polling'] = { Type: 'Wait', Seconds: POLL_INTERVAL_SECONDS, Next: 'Poll deployment status' };
  states['Poll deployment status'] = {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: {
      FunctionName: '${PollDeploymentStatusFunctionArn}',
      Payload: { 'executionId.$': '$$.Execution.Id', 'plan.$': '$.plan', 'deploymentId.$': '$.rollout.deploymentId' },
    },
    ResultSelector: { 'rolloutState.$': '$.Payload.rolloutState', 'reason.$': '$.Payload.reason' },
    ResultPath: '$.outcome',
    TimeoutSeconds: 60,
    Retry: retry,
    Catch: wait.Catch,
    Next: 'Deployment finished?',
  };
  states['Deployment finished?'] = {
    Type: 'Choice',
    Choices: [
      { Variable: '$.outcome.rolloutState', StringEquals: 'COMPLETED', Next: wait.Next },
      { Variable: '$.outcome.rolloutState', StringEquals: 'FAILED', Next: 'Record polled failure' },
    ],
    Default: 'Wait before polling',
  };
  states['Record polled failure'] = {
    Type: 'Pass',
    Parameters: { Error: 'DeploymentFailedError', 'Cause.$': '$.outcome.reason' },
    ResultPath: '$.failure',
    Next: 'Roll back release',
  };
  return { asl: JSON.stringify(definition), placeholders: [...Object.keys(deployWorkflow.functions), 'PollDeploymentStatus'] };
}
