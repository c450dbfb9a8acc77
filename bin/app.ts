/**
 * The CDK app: `npx cdk synth -c fleet=<fleet file>` synthesises one stack for
 * the fleet file's environment, validated by cdk-nag's AWS Solutions rules.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AssureStack } from '../lib/assure-stack';
import { loadFleetFile } from '../lib/fleet/fleet-file';

const app = new App();
const fleetFile = String(app.node.tryGetContext('fleet') ?? 'examples/trading-fleet.yaml');
const fleet = loadFleetFile(fleetFile);
new AssureStack(app, `Assure-${fleet.environment}`, {
  fleet,
  ...(fleet.account || fleet.region ? { env: { account: fleet.account, region: fleet.region } } : {}),
  description: `Assure deployment-assurance control plane for the ${fleet.environment} fleet (${fleetFile})`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
