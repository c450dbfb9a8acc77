/**
 * The sandbox's IAM policy evaluator against the examples of the IAM User
 * Guide. Each case cites the page it comes from.
 */
import { describe, expect, it } from 'vitest';
import { CompiledPolicy, decide, type AuthorizationRequest, type PolicyDocumentJson } from '../../lib/sandbox/iam/policy-evaluator';

const policy = (...statements: PolicyDocumentJson['Statement'][]): CompiledPolicy =>
  new CompiledPolicy(statements.map((Statement) => ({ Version: '2012-10-17', Statement })));

const EVALUATION = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html';
const ELEMENTS_ACTION = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html';
const RESOURCE = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html';
const OPERATORS = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html';
const MULTIVALUED = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html';
const CONDITION_LOGIC = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html';

describe(`Policy evaluation within one account (${EVALUATION})`, () => {
  // "Example identity-based and resource-based policy evaluation": Carlos and his buckets.
  const carlos = { type: 'AWS' as const, id: 'arn:aws:iam::111122223333:user/carlossalazar' };
  const identity = policy([
    {
      Sid: 'AllowS3ListRead',
      Effect: 'Allow',
      Action: ['s3:GetBucketLocation', 's3:GetAccountPublicAccessBlock', 's3:ListAccessPoints', 's3:ListAllMyBuckets'],
      Resource: 'arn:aws:s3:::*',
    },
    {
      Sid: 'AllowS3Self',
      Effect: 'Allow',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*', 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar'],
    },
    { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
  ]);
  const logsBucketPolicy = policy([
    {
      Effect: 'Allow',
      Principal: { AWS: carlos.id },
      Action: 's3:*',
      Resource: ['arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs', 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/*'],
    },
  ]);

  it('AllowS3ListRead lets Carlos list the account’s buckets', () => {
    expect(decide({ action: 's3:ListAllMyBuckets', resource: 'arn:aws:s3:::amzn-s3-demo-bucket', principal: carlos }, identity)).toBe('Allow');
  });

  it('AllowS3Self gives Carlos full access to the bucket named after him', () => {
    expect(decide({ action: 's3:PutObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/report.csv', principal: carlos }, identity)).toBe(
      'Allow',
    );
  });

  it('an explicit deny in the identity policy overrides the bucket policy’s allow on the logs bucket', () => {
    const request: AuthorizationRequest = {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/log.txt',
      principal: carlos,
    };
    expect(decide(request, identity, logsBucketPolicy)).toBe('ExplicitDeny');
  });

  it('within one account, an allow in either the identity or the resource-based policy is enough', () => {
    const request: AuthorizationRequest = {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/log.txt',
      principal: carlos,
    };
    expect(decide(request, policy([]), logsBucketPolicy)).toBe('Allow');
    expect(decide(request, undefined, undefined)).toBe('ImplicitDeny');
  });

  it('a resource-based policy applies only to the principals it names', () => {
    const other = { type: 'AWS' as const, id: 'arn:aws:iam::111122223333:user/someone-else' };
    expect(
      decide({ action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/x', principal: other }, policy([]), logsBucketPolicy),
    ).toBe('ImplicitDeny');
  });
});

describe(`Action, NotAction, Resource (${ELEMENTS_ACTION}, ${RESOURCE})`, () => {
  it('NotAction with Allow allows every action except those listed ("NotAction with Allow")', () => {
    const p = policy([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]);
    expect(decide({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }, p)).toBe('Allow');
    expect(decide({ action: 'iam:CreateUser', resource: 'arn:aws:iam::111122223333:user/x' }, p)).toBe('ImplicitDeny');
  });

  it('NotAction with Deny denies every action outside the list, here on NotResource ("NotAction with Deny")', () => {
    const p = policy([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: 'iam:*', NotResource: 'arn:aws:iam::*:role/allowed-*' },
    ]);
    expect(decide({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }, p)).toBe('ExplicitDeny');
    expect(decide({ action: 'iam:GetRole', resource: 'arn:aws:iam::111122223333:role/x' }, p)).toBe('Allow');
  });

  it('action names are case-insensitive; `*` and `?` match within them', () => {
    const p = policy([{ Effect: 'Allow', Action: ['ECS:describe*', 'sqs:?etQueueUrl'], Resource: '*' }]);
    expect(decide({ action: 'ecs:DescribeServices', resource: '*' }, p)).toBe('Allow');
    expect(decide({ action: 'sqs:GetQueueUrl', resource: '*' }, p)).toBe('Allow');
    expect(decide({ action: 'ecs:UpdateService', resource: '*' }, p)).toBe('ImplicitDeny');
  });

  it('resource ARNs match case-sensitively, with wildcards inside a segment (“Including wildcards in resource ARNs”)', () => {
    const p = policy([{ Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::111122223333:user/Development/product_1234/*' }]);
    expect(decide({ action: 'iam:GetUser', resource: 'arn:aws:iam::111122223333:user/Development/product_1234/Bob' }, p)).toBe('Allow');
    expect(decide({ action: 'iam:GetUser', resource: 'arn:aws:iam::111122223333:user/development/product_1234/Bob' }, p)).toBe('ImplicitDeny');
    const q = policy([{ Effect: 'Allow', Action: 'ec2:*', Resource: 'arn:aws:ec2:us-east-?:111122223333:instance/*' }]);
    expect(decide({ action: 'ec2:StartInstances', resource: 'arn:aws:ec2:us-east-1:111122223333:instance/i-1' }, q)).toBe('Allow');
    expect(decide({ action: 'ec2:StartInstances', resource: 'arn:aws:ec2:us-west-1:111122223333:instance/i-1' }, q)).toBe('ImplicitDeny');
  });
});

describe(`Condition operators (${OPERATORS})`, () => {
  it('StringEquals on a key absent from the request is false (aws:PrincipalTag/job-category example)', () => {
    const p = policy([
      {
        Effect: 'Allow',
        Action: 'iam:*AccessKey*',
        Resource: 'arn:aws:iam::111122223333:user/*',
        Condition: { StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } },
      },
    ]);
    const request = { action: 'iam:CreateAccessKey', resource: 'arn:aws:iam::111122223333:user/bob' };
    expect(decide({ ...request, context: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }, p)).toBe('Allow');
    expect(decide({ ...request, context: { 'aws:PrincipalTag/job-category': 'dev' } }, p)).toBe('ImplicitDeny');
    expect(decide(request, p)).toBe('ImplicitDeny');
  });

  it('a negated operator (StringNotLike, ArnNotLike) on an absent key is true', () => {
    const p = policy([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringNotLike: { 'aws:PrincipalTag/team': 'red*' } } }]);
    expect(decide({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }, p)).toBe('Allow');
    expect(decide({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context: { 'aws:PrincipalTag/team': 'red-1' } }, p)).toBe('ImplicitDeny');
  });

  it('StringLike matches `*` and `?` anywhere (aws:userid / home folder example)', () => {
    const p = policy([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::amzn-s3-demo-bucket',
        Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/AROA?*'] } },
      },
    ]);
    expect(decide({ action: 's3:ListBucket', resource: 'arn:aws:s3:::amzn-s3-demo-bucket', context: { 's3:prefix': 'home/AROAEXAMPLE' } }, p)).toBe('Allow');
    expect(decide({ action: 's3:ListBucket', resource: 'arn:aws:s3:::amzn-s3-demo-bucket', context: { 's3:prefix': 'other/' } }, p)).toBe('ImplicitDeny');
  });

  it('...IfExists is true when the key is absent, and tests the value when present (ec2:InstanceType example)', () => {
    const p = policy([
      { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*', Condition: { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } } },
    ]);
    expect(decide({ action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-east-1::image/ami-1' }, p)).toBe('Allow');
    expect(decide({ action: 'ec2:RunInstances', resource: '*', context: { 'ec2:InstanceType': 't2.micro' } }, p)).toBe('Allow');
    expect(decide({ action: 'ec2:RunInstances', resource: '*', context: { 'ec2:InstanceType': 'm5.large' } }, p)).toBe('ImplicitDeny');
  });

  it('Null tests presence: "true" means the key is absent (aws:TokenIssueTime example)', () => {
    const p = policy([
      { Effect: 'Allow', Action: 'ec2:*', Resource: '*' },
      { Effect: 'Deny', Action: 'ec2:*', Resource: '*', Condition: { Null: { 'aws:TokenIssueTime': 'true' } } },
    ]);
    expect(decide({ action: 'ec2:DescribeInstances', resource: '*' }, p)).toBe('ExplicitDeny');
    expect(decide({ action: 'ec2:DescribeInstances', resource: '*', context: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' } }, p)).toBe('Allow');
  });

  it('ArnEquals/ArnLike compare aws:SourceArn segment by segment (SNS topic to SQS queue example)', () => {
    const p = policy([
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: 'arn:aws:sqs:us-east-1:123456789012:QUEUE-ID',
        Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:TOPIC-ID' } },
      },
    ]);
    const request = {
      action: 'sqs:SendMessage',
      resource: 'arn:aws:sqs:us-east-1:123456789012:QUEUE-ID',
      principal: { type: 'Service' as const, id: 'sns.amazonaws.com' },
    };
    expect(decide({ ...request, context: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:TOPIC-ID' } }, undefined, p)).toBe('Allow');
    expect(decide({ ...request, context: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:OTHER' } }, undefined, p)).toBe('ImplicitDeny');
    const like = policy([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*', Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:*' } } },
    ]);
    expect(decide({ action: 'sqs:SendMessage', resource: '*', context: { 'aws:SourceArn': 'arn:aws:sns:eu-west-2:123456789012:t' } }, like)).toBe('Allow');
  });

  it('Bool compares true/false (aws:SecureTransport example)', () => {
    const p = policy([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' },
      { Effect: 'Deny', Action: 'sns:Publish', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    expect(decide({ action: 'sns:Publish', resource: '*', context: { 'aws:SecureTransport': 'false' } }, p)).toBe('ExplicitDeny');
    expect(decide({ action: 'sns:Publish', resource: '*', context: { 'aws:SecureTransport': 'true' } }, p)).toBe('Allow');
  });

  it('Numeric and Date operators (s3:max-keys and aws:CurrentTime examples)', () => {
    const n = policy([{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: { NumericLessThanEquals: { 's3:max-keys': '10' } } }]);
    expect(decide({ action: 's3:ListBucket', resource: '*', context: { 's3:max-keys': '10' } }, n)).toBe('Allow');
    expect(decide({ action: 's3:ListBucket', resource: '*', context: { 's3:max-keys': '11' } }, n)).toBe('ImplicitDeny');
    const d = policy([
      {
        Effect: 'Allow',
        Action: 'iam:*',
        Resource: '*',
        Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } },
      },
    ]);
    expect(decide({ action: 'iam:GetUser', resource: '*', context: { 'aws:CurrentTime': '2020-05-01T00:00:00Z' } }, d)).toBe('Allow');
    expect(decide({ action: 'iam:GetUser', resource: '*', context: { 'aws:CurrentTime': '2020-07-01T00:00:00Z' } }, d)).toBe('ImplicitDeny');
  });

  it('an operator the evaluator does not know never grants, and a Deny that uses it still denies', () => {
    const allow = policy([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { IpAddressSomethingNew: { 'aws:SourceIp': '203.0.113.0/24' } } },
    ]);
    expect(decide({ action: 's3:GetObject', resource: '*', context: { 'aws:SourceIp': '203.0.113.1' } }, allow)).toBe('ImplicitDeny');
    const deny = policy([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: '*', Condition: { MadeUpOperator: { 'aws:SourceIp': 'x' } } },
    ]);
    expect(decide({ action: 's3:GetObject', resource: '*' }, deny)).toBe('ExplicitDeny');
  });
});

describe(`Several keys and values (${CONDITION_LOGIC})`, () => {
  it('operators and keys are ANDed, a key’s values are ORed', () => {
    const p = policy([
      {
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: '*',
        Condition: { StringEquals: { 'ecs:CreateAction': ['RegisterTaskDefinition', 'CreateService'], 'aws:RequestedRegion': 'eu-west-2' } },
      },
    ]);
    expect(decide({ action: 'ecs:TagResource', resource: '*', context: { 'ecs:CreateAction': 'CreateService', 'aws:RequestedRegion': 'eu-west-2' } }, p)).toBe(
      'Allow',
    );
    expect(decide({ action: 'ecs:TagResource', resource: '*', context: { 'ecs:CreateAction': 'CreateService', 'aws:RequestedRegion': 'us-east-1' } }, p)).toBe(
      'ImplicitDeny',
    );
    expect(decide({ action: 'ecs:TagResource', resource: '*', context: { 'ecs:CreateAction': 'RunTask', 'aws:RequestedRegion': 'eu-west-2' } }, p)).toBe(
      'ImplicitDeny',
    );
  });
});

describe(`Multivalued context keys (${MULTIVALUED})`, () => {
  it('ForAllValues: every request value is in the set (true when the key is absent)', () => {
    const p = policy([
      {
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: '*',
        Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } },
      },
    ]);
    expect(decide({ action: 'ec2:CreateTags', resource: '*', context: { 'aws:TagKeys': ['environment'] } }, p)).toBe('Allow');
    expect(decide({ action: 'ec2:CreateTags', resource: '*', context: { 'aws:TagKeys': ['environment', 'owner'] } }, p)).toBe('ImplicitDeny');
    expect(decide({ action: 'ec2:CreateTags', resource: '*' }, p)).toBe('Allow');
  });

  it('ForAnyValue: at least one request value is in the set (false when the key is absent)', () => {
    const p = policy([
      {
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: '*',
        Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } },
      },
    ]);
    expect(decide({ action: 'ec2:CreateTags', resource: '*', context: { 'aws:TagKeys': ['owner', 'environment'] } }, p)).toBe('Allow');
    expect(decide({ action: 'ec2:CreateTags', resource: '*', context: { 'aws:TagKeys': ['owner'] } }, p)).toBe('ImplicitDeny');
    expect(decide({ action: 'ec2:CreateTags', resource: '*' }, p)).toBe('ImplicitDeny');
  });
});
