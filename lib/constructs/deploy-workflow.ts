/**
 * The deploy workflow in AWS: what every workflow has (functions with their
 * grants, the state machine, the rules on ECS deployment events and execution
 * ends), plus the role ECS assumes to invoke Assure's lifecycle hook on
 * blue/green, canary and linear deployments. That role may invoke the hook
 * function and nothing else; only Start deployment may pass it (to ECS).
 */
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { deploymentHookRoleName } from '../naming';
import { deployWorkflow } from '../workflows/deploy-workflow';
import { WorkflowResources, type WorkflowConstructProps } from './workflow-resources';

export class DeployWorkflow extends WorkflowResources<typeof deployWorkflow> {
  /** Assumed by ECS to invoke the lifecycle hook (its ARN is the runtime config's deploymentHookRoleArn). */
  readonly hookInvokeRole: Role;

  constructor(scope: Construct, id: string, props: WorkflowConstructProps) {
    super(scope, id, { ...props, spec: deployWorkflow });
    this.hookInvokeRole = new Role(this, 'DeploymentHookInvokeRole', {
      roleName: deploymentHookRoleName(props.fleet.environment),
      // The trust policy AWS documents for Lambda lifecycle hooks.
      assumedBy: new ServicePrincipal('ecs.amazonaws.com'),
      description: `ECS invokes ${props.fleet.environment}'s deployment lifecycle hook (the judge) with this role`,
      inlinePolicies: {
        InvokeDeploymentHook: new PolicyDocument({
          // By the name the config derives (not the function's attribute): the same ARN the deploy sends to ECS.
          statements: [new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.config.deploymentHookFunctionArn] })],
        }),
      },
    });
  }
}
