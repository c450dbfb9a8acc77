/**
 * The release workflow in the synthesised stack: the ECR push rule (exactly the
 * repositories of the services released by push, with a dead-letter queue),
 * the push handler allowed to start releases only, and the release state
 * machine's role allowed to run the deploy and rollback state machines
 * (`startExecution.sync:2`) and nothing else of Step Functions.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import { ecrPushEventPattern, releaseExecutionEndPattern } from '../../lib/event-patterns';
import type { Fleet } from '../../lib/fleet/fleet';
import { exampleFleet } from '../support/handler-deps';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}
type Policy = { Properties: { PolicyDocument: { Statement: Statement[] } } };

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function synthesize(fleet: Fleet): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new AssureStack(app, 'Test', { fleet, env: { account: fleet.account, region: fleet.region } }));
}

describe('release workflow resources', () => {
  const fleet = exampleFleet();
  let template: Template;
  const statementsOf = (prefix: string): Statement[] =>
    (Object.entries(template.findResources('AWS::IAM::Policy')) as [string, Policy][])
      .filter(([id]) => id.startsWith(prefix))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
  const allowing = (prefix: string, action: string): string =>
    JSON.stringify(
      statementsOf(prefix)
        .filter((s) => actions(s).includes(action))
        .map((s) => s.Resource),
    );

  beforeAll(() => {
    template = synthesize(fleet);
  });

  it('routes successful pushes of exactly the push-released repositories to the push handler, with a dead-letter queue', () => {
    expect(ecrPushEventPattern(fleet)).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': ['risk-engine', 'order-gateway'] },
    });
    const rules = template.findResources('AWS::Events::Rule', { Properties: { Name: 'assure-prod-release-EcrPushEvents' } });
    expect(Object.keys(rules)).toHaveLength(1);
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'assure-prod-release-EcrPushEvents',
      EventPattern: ecrPushEventPattern(fleet),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReleaseStartReleaseFromPush'), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
  });

  it('records releases that end without recording it themselves (stopped, timed out), with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'assure-prod-release-ReleaseExecutionEnds',
      EventPattern: releaseExecutionEndPattern(fleet, { account: '111122223333', region: 'eu-west-2' }),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReleaseFinalizeInterruptedRelease'), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it('has no push rule when no service is released by push (EventBridge refuses an empty list)', () => {
    const manual = {
      ...fleet,
      services: Object.fromEntries(Object.entries(fleet.services).map(([id, s]) => [id, { ...s, release: { ...s.release, trigger: 'manual' as const } }])),
    };
    const rules = synthesize(manual).findResources('AWS::Events::Rule', { Properties: { Name: 'assure-prod-release-EcrPushEvents' } });
    expect(Object.keys(rules)).toHaveLength(0);
  });

  it('lets the push handler start release executions only', () => {
    expect(allowing('ReleaseStartReleaseFromPushRole', 'states:StartExecution')).toBe(
      JSON.stringify([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:eu-west-2:111122223333:stateMachine:assure-prod-release']] }]),
    );
  });

  it('lets the release state machine run the deploy and rollback state machines synchronously, and no other', () => {
    const starts = allowing('ReleaseStateMachineRole', 'states:StartExecution');
    expect(starts).toContain('stateMachine:assure-prod-deploy');
    expect(starts).toContain('stateMachine:assure-prod-rollback');
    expect(starts).not.toContain('assure-prod-halt');
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
      const resources = allowing('ReleaseStateMachineRole', action);
      expect(resources).toContain('execution:assure-prod-deploy:*');
      expect(resources).toContain('execution:assure-prod-rollback:*');
    }
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
      expect(allowing('ReleaseStateMachineRole', action)).toContain('rule/StepFunctionsGetEventsForStepFunctionsExecutionRule');
    }
    // No other state machine may start deploys or rollbacks but the alarm router's rollbacks.
    expect(allowing('DeployStateMachineRole', 'states:StartExecution')).toBe('[]');
  });
});
