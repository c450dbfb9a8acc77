/**
 * The rotate-secret construct in the synthesised stack: one rotation schedule
 * per managed secret with the rotation function, Secrets Manager allowed to
 * invoke it, Secrets Manager actions scoped to the managed secrets, no value
 * readable by any workflow function, the RotationSucceeded rule, and the ECS
 * event handler allowed to complete this workflow's waits.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import { rotateSecretWorkflow, rotationSucceededEventPattern } from '../../lib/workflows/rotate-secret-workflow';
import { exampleFleet } from '../support/handler-deps';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}
type Policy = { Properties: { PolicyDocument: { Statement: Statement[] } } };

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('rotate-secret construct', () => {
  const fleet = exampleFleet();
  let template: Template;
  const statementsOf = (functionId: string): Statement[] =>
    (Object.entries(template.findResources('AWS::IAM::Policy')) as [string, Policy][])
      .filter(([id]) => id.startsWith(`RotateSecret${functionId}Role`))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    template = Template.fromStack(new AssureStack(app, 'Test', { fleet, env: { account: fleet.account, region: fleet.region } }));
  });

  it('schedules each managed secret to rotate with the rotation function every rotationDays, which Secrets Manager may invoke', () => {
    const schedules = template.findResources('AWS::SecretsManager::RotationSchedule') as Record<string, { Properties: Record<string, unknown> }>;
    expect(Object.keys(schedules)).toHaveLength(Object.keys(fleet.secrets).length);
    for (const secret of Object.values(fleet.secrets)) {
      const schedule = Object.values(schedules).find((r) => JSON.stringify(r.Properties.SecretId).includes(`:secret:${secret.name}`));
      expect(schedule?.Properties, secret.id).toMatchObject({
        RotationLambdaARN: { 'Fn::GetAtt': [expect.stringMatching(/^RotateSecretRotateSecretValue/), 'Arn'] },
        RotationRules: { ScheduleExpression: `rate(${secret.rotationDays} days)` },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RotateSecretRotateSecretValue'), 'Arn'] },
    });
  });

  it('lets Secrets Manager invoke the rotation function only for the managed secrets, in this account', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'secretsmanager.amazonaws.com' } })) as {
      Properties: { SourceArn?: unknown; SourceAccount?: unknown };
    }[];
    expect(permissions.length).toBe(Object.keys(fleet.secrets).length);
    for (const permission of permissions) expect(permission.Properties.SourceAccount).toBe(fleet.account);
    const sources = permissions.map((p) => JSON.stringify(p.Properties.SourceArn));
    for (const secret of Object.values(fleet.secrets)) {
      expect(
        sources.filter((s) => s.includes(`:secretsmanager:${fleet.region}:${fleet.account}:secret:${secret.name}-??????`)),
        secret.id,
      ).toHaveLength(1);
    }
  });

  it('scopes every Secrets Manager action to the managed secrets, and lets no workflow function read a value', () => {
    const secretArn = (name: string): string => `:secretsmanager:eu-west-2:111122223333:secret:${name}-??????`;
    const managed = Object.values(fleet.secrets).map((s) => s.name);
    for (const key of [...Object.keys(rotateSecretWorkflow.functions), ...Object.keys(rotateSecretWorkflow.standaloneFunctions)]) {
      for (const statement of statementsOf(key).filter((s) =>
        actions(s).some((a) => a.startsWith('secretsmanager:') && a !== 'secretsmanager:GetRandomPassword'),
      )) {
        const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map((r) => JSON.stringify(r));
        // The rotation function gets one statement per schedule (that secret); the workflow's functions one for all of them.
        for (const resource of resources)
          expect(
            managed.some((name) => resource.includes(secretArn(name))),
            `${key}: ${resource}`,
          ).toBe(true);
        if (key !== 'RotateSecretValue') {
          for (const name of managed) expect(resources.join(), key).toContain(secretArn(name));
          expect(actions(statement), key).not.toContain('secretsmanager:GetSecretValue');
        }
      }
    }
    expect(statementsOf('StartSecretRotation').flatMap(actions)).toContain('secretsmanager:RotateSecret');
    expect(statementsOf('RestorePreviousSecretVersion').flatMap(actions)).toContain('secretsmanager:UpdateSecretVersionStage');
  });

  it('lets the rotation-event handler start only this state machine, and the ECS event handler complete its waits', () => {
    const start = statementsOf('StartRotationFromEvent').find((s) => actions(s).includes('states:StartExecution'));
    expect(JSON.stringify(start?.Resource)).toContain(':stateMachine:assure-prod-rotate-secret');
    expect(JSON.stringify(start?.Resource)).not.toContain('assure-prod-deploy');
    const handlerStatements = (Object.entries(template.findResources('AWS::IAM::Policy')) as [string, Policy][])
      .filter(([id]) => id.startsWith('DeployHandleDeploymentEventRole'))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
    expect(
      handlerStatements
        .filter((s) => actions(s).includes('states:SendTaskSuccess'))
        .map((s) => JSON.stringify(s.Resource))
        .join(),
    ).toContain(':stateMachine:assure-prod-rotate-secret');
  });

  it('routes RotationSucceeded for the managed secrets to the handler, with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'assure-prod-rotate-secret-RotationSucceededEvents',
      EventPattern: rotationSucceededEventPattern(fleet, { account: '111122223333', region: 'eu-west-2' }),
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } })],
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'assure-prod-rotate-secret' });
  });
});
