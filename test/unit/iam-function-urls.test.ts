/**
 * Function URLs in the sandbox's IAM: the template's AWS::Lambda::Url and its
 * function URL permissions become the function's resource-based policy, and a
 * caller is allowed only as that policy names them (a session, its role, or the
 * account), for lambda:InvokeFunctionUrl and then lambda:InvokeFunction through the URL.
 */
import { describe, expect, it } from 'vitest';
import { IamAuthorizer } from '../../lib/sandbox/iam/authorizer';
import { type CfnTemplate, policySetFromTemplate } from '../../lib/sandbox/iam/template-policies';

const context = { account: '111122223333', region: 'eu-west-2' };
const CRO = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_RiskApprover_9b2e/chief-risk-officer';
const PIPELINE_ROLE = 'arn:aws:iam::111122223333:role/release-pipeline';

const permission = (principal: string, extra: Record<string, unknown>) => ({
  Type: 'AWS::Lambda::Permission',
  Properties: { FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Principal: principal, ...extra },
});

const template: CfnTemplate = {
  Resources: {
    FnRole: { Type: 'AWS::IAM::Role', Properties: {} },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'assure-prod-decide', Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] } } },
    Url: { Type: 'AWS::Lambda::Url', Properties: { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
    CroUrl: permission(CRO, { Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'AWS_IAM' }),
    CroInvoke: permission(CRO, { Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true }),
    PipelineUrl: permission(PIPELINE_ROLE, { Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'AWS_IAM' }),
    PipelineInvoke: permission(PIPELINE_ROLE, { Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true }),
    Key: { Type: 'AWS::KMS::Key', Properties: {} },
    Alias: { Type: 'AWS::KMS::Alias', Properties: { AliasName: 'alias/assure-prod-approval-tokens', TargetKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
  },
};

describe('function URLs and keys in the policy set', () => {
  const set = policySetFromTemplate(template, 'Assure-prod', context);

  it('writes the function URL conditions as Lambda does: the auth type, and invoke only through the URL', () => {
    expect(set.functionUrls).toEqual({ 'assure-prod-decide': { authType: 'AWS_IAM' } });
    expect(set.functions['assure-prod-decide']?.resourcePolicy).toContainEqual(
      expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } }),
    );
    expect(set.functions['assure-prod-decide']?.resourcePolicy).toContainEqual(
      expect.objectContaining({ Action: 'lambda:InvokeFunction', Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } }),
    );
    expect(set.keys).toEqual({ 'alias/assure-prod-approval-tokens': 'arn:aws:kms:eu-west-2:111122223333:key/Assure-prod-Key' });
  });

  it('allows the named session and any session of the named role, and nobody else', async () => {
    const iam = await IamAuthorizer.create(set);
    expect(iam.functionUrlDecision(CRO, 'assure-prod-decide')).toBe('Allow');
    expect(iam.functionUrlDecision('arn:aws:sts::111122223333:assumed-role/release-pipeline/build-7', 'assure-prod-decide')).toBe('Allow');
    expect(iam.functionUrlDecision('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_RiskApprover_9b2e/mallory', 'assure-prod-decide')).toBe(
      'ImplicitDeny',
    );
    expect(iam.functionUrlDecision('arn:aws:sts::444455556666:assumed-role/release-pipeline/build-7', 'assure-prod-decide')).toBe('ImplicitDeny');
    expect(iam.functionUrlDecision(CRO, 'assure-prod-other')).toBe('NoUrl');
  });
});
