/**
 * The audit table's resource-based policy: what no principal may do to the
 * trail, whatever its identity policies say (an explicit Deny in a resource
 * policy wins over any Allow).
 *
 * - Nobody updates or deletes a record, in any form: UpdateItem, DeleteItem,
 *   BatchWriteItem (its DeleteRequest; Assure never batches audit writes), and
 *   PartiQL's UPDATE and DELETE. A transaction's Update and Delete actions are
 *   authorized as UpdateItem and DeleteItem, so they are denied too.
 * - Nobody but Assure's own function roles writes a record (PutItem, PartiQL INSERT).
 *   IAM has no condition key that tells an overwriting PutItem from a new one
 *   (PutItem's keys are dynamodb:Attributes, EnclosingOperation, LeadingKeys,
 *   ReturnConsumedCapacity and ReturnValues), so Assure's roles keep PutItem;
 *   its code writes only on `attribute_not_exists(pk)`, and an overwrite by
 *   anyone else with those roles breaks the hash chain, which `assure audit
 *   verify` reports.
 * - Nobody deletes the table. The table is retained when the stack is deleted
 *   (CloudFormation then never calls DeleteTable) and has deletion protection;
 *   the Deny stops even an administrator who first turns deletion protection off.
 *
 * The policy names the roles by ARN. It is produced when the stack is
 * synthesized, so a function added anywhere in the stack is allowed to append.
 */
import { Lazy, Stack } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** Changes to existing records, which no principal may make. */
export const AUDIT_RECORD_CHANGES = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];
/** New records, which only Assure's function roles may write. */
export const AUDIT_RECORD_WRITES = ['dynamodb:PutItem', 'dynamodb:PartiQLInsert'];

/** The role ARNs of every Lambda function in the stack, as tokens CloudFormation resolves. */
function functionRoleArns(scope: Construct): string[] {
  const arns = Stack.of(scope)
    .node.findAll()
    .filter((c): c is LambdaFunction => c instanceof LambdaFunction)
    .map((fn) => fn.role?.roleArn)
    .filter((arn): arn is string => arn !== undefined);
  return [...new Set(arns)];
}

export function protectAuditTable(table: TableV2): void {
  const deny = (sid: string, actions: string[], conditions?: Record<string, unknown>): PolicyStatement =>
    // A table's resource policy cannot name the table's own ARN (it does not exist yet): `*` is this table.
    new PolicyStatement({ sid, effect: Effect.DENY, principals: [new AnyPrincipal()], actions, resources: ['*'], ...(conditions ? { conditions } : {}) });
  table.resourcePolicy = new PolicyDocument({
    statements: [
      deny('AuditRecordsAreNeverChanged', AUDIT_RECORD_CHANGES),
      deny('OnlyAssureAppendsAuditRecords', AUDIT_RECORD_WRITES, {
        ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => functionRoleArns(table) }) },
      }),
      deny('AuditTableIsNeverDeleted', ['dynamodb:DeleteTable']),
    ],
  });
}
