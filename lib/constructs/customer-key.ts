/**
 * Assure's customer managed KMS keys: rotated yearly, and no one may create a
 * grant on one except for an AWS resource (a service acting for its caller) or
 * an AWS service itself: grants would let a principal use the key outside its
 * key policy (Control Tower CT.KMS.PR.3).
 */
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, type KeyProps } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export function customerKey(scope: Construct, id: string, props: Omit<KeyProps, 'enableKeyRotation'> & { readonly description: string }): Key {
  const key = new Key(scope, id, { ...props, enableKeyRotation: true });
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'GrantsOnlyForAwsResources',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
  return key;
}
