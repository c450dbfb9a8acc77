/**
 * What blue/green, canary and linear deploys need in the stack: the role ECS
 * assumes to invoke Assure's lifecycle hook (that function only), the runtime
 * settings that name both, and iam:PassRole for Start deployment scoped to the
 * fleet's traffic-shift roles and that hook role, passed to ECS only.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AssureStack } from '../../lib/assure-stack';
import type { Fleet } from '../../lib/fleet/fleet';
import { deploymentHookFunctionName, functionName } from '../../lib/naming';
import { deployWorkflow } from '../../lib/workflows/deploy-workflow';
import { exampleFleet } from '../support/handler-deps';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, unknown>;
}
type Resource = { readonly Properties: Record<string, unknown> };

function synthesize(fleet: Fleet): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new AssureStack(app, 'Test', { fleet, env: { account: '111122223333', region: 'eu-west-2' } }));
}

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const roleArn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::111122223333:role/${name}`]] });

/** Every identity-policy statement that allows iam:PassRole, by the policy's logical id. */
function passRoleStatements(template: Template): [string, Statement][] {
  return Object.entries(template.findResources('AWS::IAM::Policy') as Record<string, Resource>).flatMap(([id, policy]) =>
    ((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement ?? [])
      .filter((s) => actions(s).includes('iam:PassRole'))
      .map((s): [string, Statement] => [id, s]),
  );
}

const HOOK_ROLE = 'assure-prod-deployment-hook-invoke';
const HOOK_FUNCTION_ARN = 'arn:aws:lambda:eu-west-2:111122223333:function:assure-prod-deploy-judge-deployment-hook';

describe('deployment lifecycle hook in the stack', () => {
  const fleet = exampleFleet();
  let template: Template;

  beforeAll(() => {
    template = synthesize(fleet);
  });

  it('creates the hook invoke role: assumed by ECS, allowed to invoke the hook function and nothing else', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role', { Properties: { RoleName: HOOK_ROLE } }) as Record<string, Resource>);
    expect(roles).toHaveLength(1);
    const role = roles[0]?.Properties ?? {};
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toEqual([
      {
        PolicyName: 'InvokeDeploymentHook',
        PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: HOOK_FUNCTION_ARN }] },
      },
    ]);
    // No separate policy adds anything to it.
    const [roleId] = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: HOOK_ROLE } }));
    const attached = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`),
    );
    expect(attached).toEqual([]);
  });

  it('gives every function the hook function and role in its configuration', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function') as Record<string, Resource>);
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        ASSURE_DEPLOYMENT_HOOK_FUNCTION: HOOK_FUNCTION_ARN,
        ASSURE_DEPLOYMENT_HOOK_ROLE: `arn:aws:iam::111122223333:role/${HOOK_ROLE}`,
      });
    }
  });

  it("names the deploy workflow's hook function as every workflow function is named", () => {
    expect(deploymentHookFunctionName('prod')).toBe(functionName('prod', 'deploy', 'judge-deployment-hook'));
  });

  it('points the hook at the JudgeDeploymentHook function the deploy workflow deploys', () => {
    expect(functionName('prod', 'deploy', deployWorkflow.standaloneFunctions.JudgeDeploymentHook.name)).toBe(deploymentHookFunctionName('prod'));
    expect(Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: deploymentHookFunctionName('prod') } }))).toHaveLength(1);
  });

  it('lets Start deployment pass only the traffic-shift roles and the hook role, and only to ECS', () => {
    const toEcs = passRoleStatements(template).filter(([, s]) => JSON.stringify(s.Condition).includes('"ecs.amazonaws.com"'));
    // And the consumer restart of a rotation and the two rollbacks (below).
    expect(toEcs.map(([id]) => id)).toHaveLength(4);
    const [policyId, statement] = toEcs.find(([id]) => id.startsWith('DeployStartDeployment')) as [string, Statement];
    expect(policyId).toMatch(/^DeployStartDeployment/);
    expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs.amazonaws.com' } });
    const shiftRoles = [...new Set(Object.values(fleet.services).flatMap((s) => (s.trafficShift ? [s.trafficShift.roleName] : [])))];
    expect(shiftRoles).toEqual(['ecs-infrastructure-load-balancers']);
    expect(resources(statement)).toEqual([...shiftRoles, HOOK_ROLE].map(roleArn));
    // Everything else Start deployment may pass goes nowhere: it has no other PassRole.
    expect(passRoleStatements(template).filter(([id]) => id.startsWith('DeployStartDeployment'))).toHaveLength(1);
  });

  it("lets a rotation's consumer restart pass only its consumers' traffic-shift roles, no hook role, and only to ECS", () => {
    const restart = passRoleStatements(template).filter(([id]) => id.startsWith('RotateSecretRestartConsumerTasks'));
    expect(restart).toHaveLength(1);
    const [, statement] = restart[0] as [string, Statement];
    expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs.amazonaws.com' } });
    const consumers = new Set(Object.values(fleet.secrets).flatMap((s) => s.consumers));
    const shiftRoles = [...new Set([...consumers].flatMap((id) => (fleet.services[id]?.trafficShift ? [fleet.services[id].trafficShift.roleName] : [])))];
    expect(shiftRoles).toEqual(['ecs-infrastructure-load-balancers']);
    expect(resources(statement)).toEqual(shiftRoles.map(roleArn));
  });

  it('lets the rollbacks pass the traffic-shift roles again, no hook role, and only to ECS', () => {
    for (const prefix of ['DeployRollBackDeployment', 'RollbackRollBackService']) {
      const granted = passRoleStatements(template).filter(([id]) => id.startsWith(prefix));
      expect(granted).toHaveLength(1);
      const [, statement] = granted[0] as [string, Statement];
      expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs.amazonaws.com' } });
      expect(resources(statement)).toEqual(['ecs-infrastructure-load-balancers'].map(roleArn));
    }
  });

  it('grants no PassRole to Start deployment for a fleet whose services all roll', () => {
    const rolling: Fleet = {
      ...fleet,
      services: Object.fromEntries(
        Object.entries(fleet.services).map(([id, { trafficShift: _shift, ...service }]) => [
          id,
          { ...service, strategy: { type: 'rolling', maximumPercent: 200, minimumHealthyPercent: 100 } },
        ]),
      ),
    };

    expect(passRoleStatements(synthesize(rolling)).filter(([id]) => id.startsWith('DeployStartDeployment'))).toEqual([]);
  });
});
