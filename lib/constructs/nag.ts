/**
 * cdk-nag acknowledgements that name the exact finding they accept, e.g.
 * `AwsSolutions-IAM5[Resource::arn:...:task/trading-prod/*]`, so a new wildcard is
 * never silently covered.
 *
 * A `*` resource is the one finding cdk-nag cannot tell apart (every statement on
 * `*` in a policy is the same `Resource::*` finding), so it is never acknowledged
 * on a role's own policy. Roles are `WildcardConfinedRole`s instead: a statement
 * on `*` whose actions all support no resource-level permissions (listed below,
 * with the reason) goes to a separate policy of the role, where the finding is
 * acknowledged; any other `*` stays in the role's default policy, unacknowledged,
 * and fails the check.
 */
import { Stack, Token, Validations } from 'aws-cdk-lib';
import { type AddToPrincipalPolicyResult, Effect, Policy, type PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Actions whose Service Authorization Reference entry has no resource type, so
 * AWS requires `"Resource": "*"`: the only actions a role may hold on `*`.
 */
export const WILDCARD_ONLY_ACTIONS: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments': 'X-Ray active tracing',
  'xray:PutTelemetryRecords': 'X-Ray active tracing',
  'xray:GetSamplingRules': 'X-Ray active tracing',
  'xray:GetSamplingTargets': 'X-Ray active tracing',
  'ec2:CreateNetworkInterface': 'Lambda VPC attachment',
  'ec2:DescribeNetworkInterfaces': 'Lambda VPC attachment',
  'ec2:DescribeSubnets': 'Lambda VPC attachment',
  'ec2:DeleteNetworkInterface': 'Lambda VPC attachment',
  'ec2:AssignPrivateIpAddresses': 'Lambda VPC attachment',
  'ec2:UnassignPrivateIpAddresses': 'Lambda VPC attachment',
  'logs:CreateLogDelivery': 'Step Functions vended log delivery',
  'logs:GetLogDelivery': 'Step Functions vended log delivery',
  'logs:UpdateLogDelivery': 'Step Functions vended log delivery',
  'logs:DeleteLogDelivery': 'Step Functions vended log delivery',
  'logs:ListLogDeliveries': 'Step Functions vended log delivery',
  'logs:PutResourcePolicy': 'Step Functions vended log delivery',
  'logs:DescribeResourcePolicies': 'Step Functions vended log delivery',
  'logs:DescribeLogGroups': 'Step Functions vended log delivery',
  'ecs:DescribeTaskDefinition': 'reading what a task-definition revision runs',
  'ecs:ListTasks': "listing the fleet cluster's tasks (conditioned on the cluster)",
  'secretsmanager:GetRandomPassword': 'generating a rotated secret value',
  'elasticloadbalancing:DescribeRules': "the deployment hook reading the listener's rules",
  'cloudwatch:GetMetricStatistics': "the deployment hook reading the target groups' metrics",
};

/** The id of the policy that holds a confined role's statements on `*`. */
export const WILDCARD_ONLY_POLICY_ID = 'WildcardOnlyActions';

const onStarOnly = (statement: PolicyStatement): boolean => {
  const json = statement.toStatementJson() as { Resource?: unknown; NotResource?: unknown; NotAction?: unknown };
  return statement.effect === Effect.ALLOW && json.NotResource === undefined && json.NotAction === undefined && json.Resource === '*';
};

/**
 * A role whose statements on `*` (from CDK's own grants too: tracing, VPC
 * attachment, log delivery) go to a policy of their own, acknowledged there,
 * when every action supports no resource-level permissions.
 */
export class WildcardConfinedRole extends Role {
  private wildcardOnly?: Policy;

  override addToPrincipalPolicy(statement: PolicyStatement): AddToPrincipalPolicyResult {
    if (!onStarOnly(statement) || !statement.actions.every((a) => a in WILDCARD_ONLY_ACTIONS)) return super.addToPrincipalPolicy(statement);
    if (!this.wildcardOnly) {
      this.wildcardOnly = new Policy(this, WILDCARD_ONLY_POLICY_ID, { roles: [this] });
      // Named here, on this policy alone, so the role's default policy stays free of any acknowledged `*`.
      Validations.of(this.wildcardOnly).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only actions that support no resource-level permissions (WILDCARD_ONLY_ACTIONS in lib/constructs/nag.ts, each with its use).',
      });
    }
    this.wildcardOnly.addStatements(statement);
    return { statementAdded: true, policyDependable: this.wildcardOnly };
  }
}

/** An ARN as cdk-nag prints it in a finding: the partition (and unresolved region/account) as `<AWS::...>`. */
export function nagArn(scope: IConstruct, service: string, resource: string, options: { global?: boolean } = {}): string {
  const stack = Stack.of(scope);
  const region = options.global ? '' : Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}

/**
 * Accepts IAM5 wildcard findings for these resource patterns (rendered ARNs), with the reason.
 * Never `*`: a statement on `*` is confined by WildcardConfinedRole instead.
 */
export function acknowledgeWildcards(scope: IConstruct, resources: readonly string[], reason: string): void {
  for (const resource of resources) {
    if (resource === '*') throw new Error(`${scope.node.path}: a "*" resource is never acknowledged per role; grant it through a WildcardConfinedRole`);
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  }
}
