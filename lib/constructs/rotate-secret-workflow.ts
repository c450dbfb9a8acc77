/**
 * The rotate-secret workflow in AWS: its functions, the state machine from
 * state-machines/rotate-secret.asl.json, the rule on RotationSucceeded, each
 * function's grants (Secrets Manager actions only on the fleet's managed
 * secrets, UpdateService only on their consumers), and one RotationSchedule
 * per managed secret that attaches the rotation function every `rotationDays`.
 * No Assure function here may read a secret's value except the rotation
 * function itself.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RotationSchedule, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { secretConsumers } from '../fleet/fleet';
import { rotateSecretWorkflow } from '../workflows/rotate-secret-workflow';
import { acknowledgeWildcards, nagArn } from './nag';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export interface RotateSecretWorkflowProps extends WorkflowConstructProps {
  /** The deploy workflow's ECS deployment-event handler: it completes this workflow's outcome waits too. */
  readonly deploymentEventHandler?: IFunction;
}

export class RotateSecretWorkflow extends WorkflowResources<typeof rotateSecretWorkflow> {
  /** One rotation schedule per managed secret, by the secret's fleet id. */
  readonly rotationSchedules: Readonly<Record<string, RotationSchedule>>;

  constructor(scope: Construct, id: string, props: RotateSecretWorkflowProps) {
    super(scope, id, { ...props, spec: rotateSecretWorkflow, inVpc: ['RunHealthGate'] });
    const { fleet, permissions: p } = props;
    const { lockTable, callbackTable } = p.resources;
    const fn = this.functions;
    const h = this.handlers;
    const stack = Stack.of(this);
    const secrets = Object.values(fleet.secrets);

    // Secrets Manager appends six random characters to a secret's name in its ARN.
    const secretArns = secrets.map((s) =>
      stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${s.name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    const onSecrets = (scopeOf: Construct, ...actions: string[]): PolicyStatement => {
      acknowledgeWildcards(
        scopeOf,
        secrets.map((s) => nagArn(this, 'secretsmanager', `secret:${s.name}-??????`)),
        "The fleet's managed secrets: Secrets Manager appends six random characters to every secret ARN.",
      );
      return new PolicyStatement({ actions: actions.map((a) => `secretsmanager:${a}`), resources: secretArns });
    };
    // Consumers only: the services a rotation may restart.
    const consumerArns = p.serviceArns(
      [...new Set(secrets.flatMap((s) => secretConsumers(fleet, s.id)))].map((id) => fleet.services[id]).filter((s) => s !== undefined),
    );
    const rotationFunction = fn.RotateSecretValue;

    p.grant(fn.ValidateRotationRequest, onSecrets(h.ValidateRotationRequest, 'DescribeSecret'), p.appendAudit());
    p.grant(fn.CheckRotationGuards, p.describeServices(), p.describeTaskDefinitions(h.CheckRotationGuards), p.readHaltFlag(), p.appendAudit());
    p.grant(fn.AcquireDeployLock, p.table(lockTable, 'PutItem', 'GetItem'), p.appendAudit());
    p.grant(
      fn.StartSecretRotation,
      onSecrets(h.StartSecretRotation, 'DescribeSecret', 'RotateSecret'),
      // RotateSecret runs the secret's rotation function on the caller's behalf.
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [rotationFunction.functionArn] }),
      p.controlState('PutItem'),
      p.appendAudit(),
    );
    p.grant(fn.ConfirmSecretRotation, onSecrets(h.ConfirmSecretRotation, 'DescribeSecret'));
    p.grant(fn.RestartConsumerTasks, p.describeServices(), p.updateServices(consumerArns), p.appendAudit());
    p.grant(fn.AwaitDeploymentOutcome, p.table(callbackTable, 'UpdateItem'), p.taskResponses('rotate-secret'), p.describeServices());
    p.grant(fn.RunHealthGate, p.describeServices(), ...p.clusterTasks(h.RunHealthGate), p.describeAlarms(), p.appendAudit());
    p.grant(fn.VerifyConsumerTasks, ...p.clusterTasks(h.VerifyConsumerTasks), p.appendAudit());
    p.grant(fn.RestorePreviousSecretVersion, onSecrets(h.RestorePreviousSecretVersion, 'DescribeSecret', 'UpdateSecretVersionStage'), p.appendAudit());
    p.grant(fn.ReleaseDeployLock, p.table(lockTable, 'DeleteItem', 'GetItem'), p.appendAudit());
    p.grant(fn.RecordRotationOutcome, p.appendAudit(), p.page());
    p.grant(
      fn.StartRotationFromEvent,
      onSecrets(h.StartRotationFromEvent, 'DescribeSecret'),
      p.controlState('PutItem', 'DeleteItem'),
      p.startExecution('rotate-secret'),
      p.appendAudit(),
    );
    // ECS outcomes of a consumer's redeploy complete this workflow's wait, through the deploy workflow's event handler.
    if (props.deploymentEventHandler) p.grant(props.deploymentEventHandler, p.taskResponses('rotate-secret'));

    // What the rotation function may do (RotationSchedule adds the value and staging actions on the secret, and GetRandomPassword).
    acknowledgeWildcards(h.RotateSecretValue, ['*'], 'secretsmanager:GetRandomPassword supports no resource-level permissions.');
    acknowledgeWildcards(
      h.RotateSecretValue,
      secrets.map((s) => nagArn(this, 'secretsmanager', `secret:${s.name}-??????`)),
      'The secret this schedule rotates: Secrets Manager appends six random characters to every secret ARN.',
    );
    const schedules: Record<string, RotationSchedule> = {};
    for (const secret of secrets) {
      const imported = Secret.fromSecretNameV2(this, `${secret.id}Secret`, secret.name);
      // RotationSchedule grants secretsmanager.amazonaws.com invoke on the function, and the function the rotation actions on this secret.
      schedules[secret.id] = new RotationSchedule(this, `${secret.id}RotationSchedule`, {
        secret: imported,
        rotationLambda: rotationFunction,
        automaticallyAfter: Duration.days(secret.rotationDays),
      });
    }
    this.rotationSchedules = schedules;
  }
}
