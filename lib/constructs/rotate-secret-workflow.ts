/**
 * The rotate-secret workflow in AWS: what every workflow has (functions with
 * their grants, the state machine, the rule on RotationSucceeded), plus one
 * RotationSchedule per managed secret that attaches the rotation function every
 * `rotationDays`. No Assure function may read a secret's value except the
 * rotation function itself, whose grants come with its schedules.
 */
import { Duration } from 'aws-cdk-lib';
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
    acknowledgeWildcards(rotation, ['*'], 'secretsmanager:GetRandomPassword supports no resource-level permissions.');
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
  }
}
