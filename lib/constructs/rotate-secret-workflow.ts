/**
 * The rotate-secret workflow in AWS: what every workflow has (functions with
 * their grants, the state machine, the rule on RotationSucceeded), plus one
 * RotationSchedule per managed secret that attaches the rotation function every
 * `rotationDays`. No Assure function may read a secret's value except the
 * rotation function itself, whose grants come with its schedules.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPermission, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { RotationSchedule, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { rotateSecretWorkflow } from '../workflows/rotate-secret-workflow';
import { acknowledgeWildcards, nagArn } from './nag';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class RotateSecretWorkflow extends WorkflowResources<typeof rotateSecretWorkflow> {
  /** One rotation schedule per managed secret, by the secret's fleet id. */
  readonly rotationSchedules: Readonly<Record<string, RotationSchedule>>;

  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: rotateSecretWorkflow });
    const secrets = Object.values(props.fleet.secrets);
    const rotation = this.handlers.RotateSecretValue;

    // What the rotation function may do (RotationSchedule adds the value and staging actions on the secret, and GetRandomPassword).
    acknowledgeWildcards(
      rotation,
      secrets.map((s) => nagArn(this, 'secretsmanager', `secret:${s.name}-??????`)),
      'The secret this schedule rotates: Secrets Manager appends six random characters to every secret ARN.',
    );
    const schedules: Record<string, RotationSchedule> = {};
    for (const secret of secrets) {
      const imported = Secret.fromSecretNameV2(this, `${secret.id}Secret`, secret.name);
      // RotationSchedule grants secretsmanager.amazonaws.com invoke on the function, and the function the rotation actions on this secret.
      schedules[secret.id] = new RotationSchedule(this, `${secret.id}RotationSchedule`, {
        secret: imported,
        rotationLambda: rotation.function,
        automaticallyAfter: Duration.days(secret.rotationDays),
      });
    }
    this.rotationSchedules = schedules;
    restrictInvokeToSecrets(rotation.function, schedules, secrets);
  }
}

/** A managed secret's ARN pattern: Secrets Manager appends six random characters to every secret's name. */
function secretArnPattern(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * Secrets Manager invokes a rotation function with the secret's ARN as the
 * source: the permission RotationSchedule grants (one, shared by every
 * schedule) is narrowed to the first managed secret, and each other secret
 * gets a permission of its own, so no other secret can invoke the function.
 */
function restrictInvokeToSecrets(
  fn: IFunction,
  schedules: Readonly<Record<string, RotationSchedule>>,
  secrets: readonly { readonly id: string; readonly name: string }[],
): void {
  const granted = fn.node.children.filter(
    (c): c is CfnPermission => c instanceof CfnPermission && c.principal === 'secretsmanager.amazonaws.com' && c.sourceArn === undefined,
  );
  const [first, ...others] = secrets;
  if (!first) return;
  if (granted.length !== 1) throw new Error(`Expected one Secrets Manager invoke permission on the rotation function, found ${granted.length}`);
  const account = Stack.of(fn).account;
  for (const permission of granted) {
    permission.sourceArn = secretArnPattern(fn, first.name);
    permission.sourceAccount = account;
  }
  for (const secret of others) {
    const id = `SecretsManagerInvoke${secret.id}`;
    fn.addPermission(id, {
      principal: new ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceArn: secretArnPattern(fn, secret.name),
      sourceAccount: account,
    });
    const schedule = schedules[secret.id];
    const permission = fn.node.tryFindChild(id);
    if (schedule && permission) schedule.node.addDependency(permission);
  }
}
