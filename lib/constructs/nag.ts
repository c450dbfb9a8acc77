/**
 * cdk-nag acknowledgements that name the exact finding they accept, e.g.
 * `AwsSolutions-IAM5[Resource::*]`, so a new wildcard is never silently covered.
 */
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** An ARN as cdk-nag prints it in a finding: the partition (and unresolved region/account) as `<AWS::...>`. */
export function nagArn(scope: IConstruct, service: string, resource: string, options: { global?: boolean } = {}): string {
  const stack = Stack.of(scope);
  const region = options.global ? '' : Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}

/** Accepts IAM5 wildcard findings for these resources (`*` or rendered ARNs), with the reason. */
export function acknowledgeWildcards(scope: IConstruct, resources: readonly string[], reason: string): void {
  for (const resource of resources) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  }
}
