/**
 * The sandbox refuses what AWS would refuse: every call is authorized against
 * the synthesized stack's policies. Each test takes one grant away and shows
 * the call, and the scenario that needs it, failing as AWS would fail it.
 */
import { AccessDeniedException, ECSServiceException, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DynamoDBServiceException, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../functions/shared/runtime/clients';
import { ALL_CLIENT_CLASSES } from '../../lib/sandbox/all-clients';
import type { PolicySet } from '../../lib/sandbox/iam/template-policies';
import type { PolicyStatementJson } from '../../lib/sandbox/iam/policy-evaluator';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { openSandbox, fleetWith, runUntilQuiet, startDeploy } from '../support/sandbox';

/** The function of the stack whose name ends with `-<workflow>-<handler>`. */
const functionNamed = (policies: PolicySet, suffix: string): string => {
  const name = Object.keys(policies.functions).find((n) => n.endsWith(suffix));
  if (!name) throw new Error(`no function *${suffix}`);
  return name;
};

/** Removes `resource` from every statement of the role that grants `action` (the grant as it was before the fix). */
function withoutResource(policies: PolicySet, roleArn: string, action: string, keep: (resource: string) => boolean): PolicySet {
  const role = policies.roles[roleArn];
  if (!role) throw new Error(`no role ${roleArn}`);
  const statements = (s: PolicyStatementJson): PolicyStatementJson => {
    const actions = ([] as string[]).concat(s.Action ?? []);
    if (!actions.includes(action)) return s;
    return { ...s, Resource: ([] as string[]).concat(s.Resource ?? []).filter(keep) };
  };
  const documents = role.documents.map((d) => ({ ...d, Statement: ([] as PolicyStatementJson[]).concat(d.Statement).map(statements) }));
  return { ...policies, roles: { ...policies.roles, [roleArn]: { ...role, documents } } };
}

const clientsAs = (sandbox: Sandbox, functionName: string) => {
  const session = sandbox.iam?.functionSession(functionName);
  if (!session) throw new Error(`no role for ${functionName}`);
  return createAwsClients(ALL_CLIENT_CLASSES, { region: sandbox.context.region, plugins: [sandbox.transport.plugin(session)] });
};

describe('IAM enforcement in the sandbox', () => {
  it('without ecs:StopServiceDeployment on the service, the halt cannot stop a running deploy (AccessDeniedException)', async () => {
    let stopper = '';
    const sandbox = await openSandbox(fleetWith(), undefined, {
      editPolicies: (policies) => {
        stopper = functionNamed(policies, '-halt-stop-deploy-executions');
        const role = policies.functions[stopper]?.roleArn as string;
        // The grant as it was: the service-deployment ARNs only.
        return withoutResource(policies, role, 'ecs:StopServiceDeployment', (r) => !r.includes(':service/'));
      },
    });
    const deployArn = await startDeploy(sandbox, 'market-data', '3.0.0', 'slow-start');
    await sandbox.clock.advance(30_000);
    await sandbox.runExecution(await sandbox.startExecution('halt', { reason: 'risk limit breached', actor: 'alice' }));
    await runUntilQuiet(sandbox);

    const denied = sandbox.transport.calls.filter((c) => c.operation === 'StopServiceDeployment');
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((c) => c.error === 'AccessDeniedException')).toBe(true);
    const message = sandbox.lambda
      .logLines(`/aws/lambda/${stopper}`)
      .map((l) => l.message)
      .find((m) => m.includes('is not authorized to perform: ecs:StopServiceDeployment'));
    expect(message).toMatch(
      /User: arn:aws:sts::111122223333:assumed-role\/Assure-prod-[^/]+\/assure-prod-halt-stop-deploy-executions is not authorized to perform: ecs:StopServiceDeployment on resource: arn:aws:ecs:eu-west-2:111122223333:service\/trading-prod\/market-data because no identity-based policy allows the ecs:StopServiceDeployment action/,
    );
    // The rollout the halt should have rolled back is left running its new revision.
    expect(sandbox.stepFunctions.execution(deployArn)?.status).not.toBe('RUNNING');
  });

  it('answers with each SDK’s own exception class, HTTP 400, naming principal, action and resource', async () => {
    const sandbox = await openSandbox();
    const policies = sandbox.iam?.policies as PolicySet;
    // The halt's hard stop may update trading services only; web-gui is support.
    const hardStop = clientsAs(sandbox, functionNamed(policies, '-halt-hard-stop-services'));
    const error = await hardStop.ecs
      .send(new UpdateServiceCommand({ cluster: sandbox.fleet.cluster, service: 'web-gui', desiredCount: 0 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedException);
    expect(error).toBeInstanceOf(ECSServiceException);
    expect((error as AccessDeniedException).$metadata.httpStatusCode).toBe(400);
    expect((error as Error).message).toMatch(
      /^User: arn:aws:sts::111122223333:assumed-role\/[^/]+\/assure-prod-halt-hard-stop-services is not authorized to perform: ecs:UpdateService on resource: arn:aws:ecs:eu-west-2:111122223333:service\/trading-prod\/web-gui because no identity-based policy allows the ecs:UpdateService action$/,
    );
    expect(sandbox.ecs.serviceRecord(sandbox.fleet.cluster, 'web-gui')?.desiredCount).toBeGreaterThan(0);

    // Validation writes the audit trail and reads nothing else.
    const validate = clientsAs(sandbox, functionNamed(policies, '-deploy-validate-deploy-request'));
    const read = await validate.dynamodb
      .send(new GetItemCommand({ TableName: sandbox.config.lockTableName, Key: { pk: { S: 'x' } } }))
      .catch((e: unknown) => e);
    expect(read).toBeInstanceOf(DynamoDBServiceException);
    expect((read as Error).name).toBe('AccessDeniedException');
    expect((read as Error).message).toContain(`dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-2:111122223333:table/${sandbox.config.lockTableName}`);

    // A task token that names no execution is refused by Step Functions itself, before IAM could name a state machine.
    const router = clientsAs(sandbox, functionNamed(policies, '-alarm-routing-route-alarm-event'));
    await expect(router.sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' }))).rejects.toMatchObject({ name: 'InvalidToken' });
  });

  it('a state machine invokes only the functions its role allows (Lambda.AWSLambdaException)', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, {
      editPolicies: (policies) => {
        const role = policies.stateMachines['assure-prod-halt']?.roleArn as string;
        return withoutResource(policies, role, 'lambda:InvokeFunction', () => false);
      },
    });
    const record = await sandbox.runExecution(await sandbox.startExecution('halt', { reason: 'risk limit breached', actor: 'alice' }));
    expect(record.status).toBe('FAILED');
    const failure = record.history.find((e) => e.type === 'TaskFailed' && e.stateName === 'Set halt flag');
    expect(failure?.detail).toMatchObject({
      error: 'Lambda.AWSLambdaException',
      cause: expect.stringMatching(
        /^User: arn:aws:sts::111122223333:assumed-role\/[^/]+\/assure-prod-halt is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:eu-west-2:111122223333:function:assure-prod-halt-set-halt-flag because no identity-based policy allows the lambda:InvokeFunction action \(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException\)$/,
      ),
    });
    expect(sandbox.lambda.invocations.filter((i) => i.functionName === 'assure-prod-halt-set-halt-flag')).toHaveLength(0);
  });

  it('a rule invokes a function only if the function’s resource-based policy lets events.amazonaws.com do so for that rule', async () => {
    let handler = '';
    const sandbox = await openSandbox(fleetWith(), undefined, {
      editPolicies: (policies) => {
        handler = functionNamed(policies, '-deploy-handle-deployment-event');
        const fn = policies.functions[handler];
        return fn ? { ...policies, functions: { ...policies.functions, [handler]: { ...fn, resourcePolicy: [] } } } : policies;
      },
    });
    const serviceArn = `arn:aws:ecs:eu-west-2:111122223333:service/${sandbox.fleet.cluster}/market-data`;
    sandbox.eventBridge.emit({
      source: 'aws.ecs',
      detailType: 'ECS Deployment State Change',
      resources: [serviceArn],
      detail: { eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', deploymentId: 'ecs-svc/1', updatedAt: new Date().toISOString(), reason: 'test' },
    });
    await sandbox.clock.advance(5_000);
    const delivery = sandbox.eventBridge.deliveries.find((d) => d.target === 'HandleDeploymentEvent');
    expect(delivery?.error).toContain('not authorized to invoke');
    expect(sandbox.lambda.invocations.some((i) => i.functionName === handler)).toBe(false);
  });

  it('Secrets Manager invokes a rotation function only if its resource-based policy allows secretsmanager.amazonaws.com', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, {
      editPolicies: (policies) => {
        const name = functionNamed(policies, '-rotate-secret-rotate-secret-value');
        const fn = policies.functions[name];
        return fn ? { ...policies, functions: { ...policies.functions, [name]: { ...fn, resourcePolicy: [] } } } : policies;
      },
    });
    const secret = Object.values(sandbox.fleet.secrets)[0]?.name as string;
    await sandbox.complete(sandbox.secretsManager.handle('RotateSecret', { SecretId: secret, RotateImmediately: true }));
    await sandbox.clock.advance(60_000);
    expect(sandbox.secretsManager.rotations).toEqual([
      expect.objectContaining({ secret, outcome: 'failed', error: expect.stringContaining('grants access to the principal secretsmanager.amazonaws.com') }),
    ]);
  });
  it('a schedule starts its state machine only if the schedule’s role allows states:StartExecution', async () => {
    const sandbox = await openSandbox(fleetWith(), Date.parse('2026-03-27T07:40:00Z'), {
      editPolicies: (policies) => {
        const role = policies.schedules['assure-prod-scale-order-gateway-london-open']?.roleArn as string;
        return withoutResource(policies, role, 'states:StartExecution', () => false);
      },
    });
    const executionsBefore = sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines.scale).length;
    await sandbox.clock.advance(Date.parse('2026-03-27T07:46:00Z') - sandbox.clock.now());
    expect(sandbox.scheduler.firings).toEqual([
      expect.objectContaining({
        name: 'assure-prod-scale-order-gateway-london-open',
        error: expect.stringMatching(
          /is not authorized to perform: states:StartExecution on resource: arn:aws:states:eu-west-2:111122223333:stateMachine:assure-prod-scale /,
        ),
      }),
    ]);
    expect(sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines.scale)).toHaveLength(executionsBefore);
  });
});
