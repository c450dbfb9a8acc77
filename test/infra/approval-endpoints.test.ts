/**
 * Approvers decide through IAM-authenticated function URLs: the decision
 * functions' URLs use AWS_IAM auth, only the fleet's approver principals may
 * call them (and invoke the function only through them), and the resume's task
 * token key may be used by the request and decision functions alone.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import { exampleFleet } from '../support/handler-deps';

let template: Template;
const fleet = exampleFleet();

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AssureStack(app, 'Test', { fleet, env: { account: fleet.account ?? '111122223333', region: fleet.region ?? 'eu-west-2' } });
  template = Template.fromStack(stack);
});

const logicalIdOf = (type: string, pattern: RegExp): string => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids, `${type} matching ${pattern}`).toHaveLength(1);
  return ids[0] as string;
};

describe('approval endpoints', () => {
  it('puts the resume request and each decision function behind a function URL with AWS_IAM auth, and no other URL exists', () => {
    const urls = template.findResources('AWS::Lambda::Url');
    expect(Object.values(urls).map((u) => (u.Properties as { AuthType: string }).AuthType)).toEqual(['AWS_IAM', 'AWS_IAM', 'AWS_IAM']);
    for (const fn of [/^ResumeRequestResume(?!Approval)[A-Z0-9]/, /^ResumeDecideResumeApproval[A-Z0-9]/, /^DeployDecideReleaseApproval[A-Z0-9]/]) {
      const id = logicalIdOf('AWS::Lambda::Function', fn);
      template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [id, 'Arn'] } });
    }
  });

  it('lets each resume approver call the URL (AWS_IAM) and invoke the function only through it', () => {
    const fn = logicalIdOf('AWS::Lambda::Function', /^ResumeDecideResumeApproval[A-Z0-9]/);
    for (const approver of fleet.approvals.resumeApprovers ?? []) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunctionUrl',
        FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
        Principal: approver,
        FunctionUrlAuthType: 'AWS_IAM',
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
        Principal: approver,
        InvokedViaFunctionUrl: true,
      });
    }
    // No permission lets anyone invoke it other than through the URL.
    const direct = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) => {
      const props = p.Properties as { Action: string; FunctionName: unknown; InvokedViaFunctionUrl?: boolean };
      return JSON.stringify(props.FunctionName).includes(fn) && props.Action === 'lambda:InvokeFunction' && props.InvokedViaFunctionUrl !== true;
    });
    expect(direct).toEqual([]);
  });

  it('grants the release URL to the account when the fleet names no release approvers (the function matches the requester)', () => {
    const fn = logicalIdOf('AWS::Lambda::Function', /^DeployDecideReleaseApproval[A-Z0-9]/);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
      FunctionUrlAuthType: 'AWS_IAM',
      Principal: Match.anyValue(),
    });
  });

  it('keys the task tokens under a rotating customer key, usable only by the request (Encrypt) and decision (Decrypt) functions', () => {
    const key = logicalIdOf('AWS::KMS::Key', /^ApprovalEndpointsTaskTokenKey/);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/assure-${fleet.environment}-approval-tokens` });
    const users: Record<string, string[]> = {};
    for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      const statements = (policy.Properties as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }).PolicyDocument.Statement;
      for (const s of statements) {
        if (!JSON.stringify(s.Resource).includes(key)) continue;
        users[id] = [...(users[id] ?? []), ...[s.Action].flat()];
      }
    }
    const grants = Object.entries(users).map(([id, actions]) => `${id.replace(/ServiceRoleDefaultPolicy.*$/, '')}: ${actions.join(',')}`);
    expect(grants.sort()).toEqual(
      [expect.stringMatching(/^ResumeDecideResumeApproval.*: kms:Decrypt$/), expect.stringMatching(/^ResumeRequestResumeApproval.*: kms:Encrypt$/)].sort(),
    );
  });

  it('lets only the resume request function start the resume state machine', () => {
    const starters = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
      (policy.Properties as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }).PolicyDocument.Statement.some(
        (s) => [s.Action].flat().includes('states:StartExecution') && JSON.stringify(s.Resource).includes('stateMachine:assure-prod-resume'),
      ),
    );
    expect(starters.map(([id]) => id)).toEqual([expect.stringMatching(/^ResumeRequestResume/)]);
  });

  it('lets only the resume decision function answer the resume machine task tokens', () => {
    const holders: string[] = [];
    for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      const statements = (policy.Properties as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }).PolicyDocument.Statement;
      if (statements.some((s) => [s.Action].flat().includes('states:SendTaskSuccess') && JSON.stringify(s.Resource).includes('-resume'))) holders.push(id);
    }
    expect(holders).toHaveLength(1);
    expect(holders[0]).toMatch(/^ResumeDecideResumeApproval/);
  });
});
