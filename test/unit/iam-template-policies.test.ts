/**
 * The synthesized template's IAM facts, resolved into the sandbox account's
 * concrete ARNs: intrinsics, physical names, roles and resource policies.
 */
import { describe, expect, it } from 'vitest';
import { type CfnTemplate, policySetFromTemplate } from '../../lib/sandbox/iam/template-policies';

const context = { account: '111122223333', region: 'eu-west-2' };
const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

const template: CfnTemplate = {
  Resources: {
    Table: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { TableName: 'assure-prod-audit' } },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'assure-prod-pages' } },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    FnRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [{ PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] } }] } }],
      },
    },
    FnPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'FnRole' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': ['Table', 'Arn'] } },
            { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'Topic' } },
            { Effect: 'Allow', Action: 'ecs:UpdateService', Resource: partitionArn(':ecs:eu-west-2:111122223333:service/c/s') },
          ],
        },
      },
    },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'assure-prod-fn', Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] } } },
    Rule: { Type: 'AWS::Events::Rule', Properties: { Name: 'assure-prod-rule' } },
    Permission: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['Rule', 'Arn'] },
      },
    },
    MachineRole: { Type: 'AWS::IAM::Role', Properties: {} },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: { StateMachineName: 'assure-prod-halt', RoleArn: { 'Fn::GetAtt': ['MachineRole', 'Arn'] } },
    },
    Schedule: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: { Name: 'assure-prod-open', Target: { Arn: { Ref: 'Machine' }, RoleArn: { 'Fn::GetAtt': ['MachineRole', 'Arn'] } } },
    },
  },
};

describe('the policy set of a synthesized template', () => {
  const set = policySetFromTemplate(template, 'Assure-prod', context);
  const fnRole = 'arn:aws:iam::111122223333:role/Assure-prod-FnRole';

  it('names each role as CloudFormation would (stack and logical id) and gathers its inline and attached policies, intrinsics resolved', () => {
    expect(set.roles[fnRole]?.roleName).toBe('Assure-prod-FnRole');
    const statements = set.roles[fnRole]?.documents.flatMap((d) => ([] as unknown[]).concat(d.Statement));
    expect(statements).toEqual([
      expect.objectContaining({ Resource: 'arn:aws:sqs:eu-west-2:111122223333:Assure-prod-Queue' }),
      expect.objectContaining({ Resource: 'arn:aws:dynamodb:eu-west-2:111122223333:table/assure-prod-audit' }),
      expect.objectContaining({ Resource: 'arn:aws:sns:eu-west-2:111122223333:assure-prod-pages' }),
      expect.objectContaining({ Resource: 'arn:aws:ecs:eu-west-2:111122223333:service/c/s' }),
    ]);
  });

  it('knows which role each function, state machine and schedule runs as', () => {
    expect(set.functions['assure-prod-fn']?.roleArn).toBe(fnRole);
    expect(set.stateMachines['assure-prod-halt']?.roleArn).toBe('arn:aws:iam::111122223333:role/Assure-prod-MachineRole');
    expect(set.schedules['assure-prod-open']?.roleArn).toBe('arn:aws:iam::111122223333:role/Assure-prod-MachineRole');
  });

  it('turns an AWS::Lambda::Permission into the function’s resource-based policy, SourceArn as ArnLike', () => {
    expect(set.functions['assure-prod-fn']?.resourcePolicy).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Resource: 'arn:aws:lambda:eu-west-2:111122223333:function:assure-prod-fn',
        Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:events:eu-west-2:111122223333:rule/assure-prod-rule' } },
      },
    ]);
  });
});
