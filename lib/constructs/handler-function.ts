/**
 * One Lambda function for one handler definition, bundled the same way for every
 * handler: local esbuild (never Docker), ES modules, minified and tree-shaken with
 * the AWS SDK v3 clients bundled in, source maps on, Node.js 24 on ARM64.
 */
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, type Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLED_FLEET_FILE } from '../../functions/shared/runtime/lambda-runtime';
import { handlerEntry, type AnyHandlerDefinition } from '../workflows/workflow-spec';
import { acknowledgeWildcards, nagArn, WildcardConfinedRole } from './nag';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** In Lambda the SDK's default credential chain always ends at the environment: bundle just that provider. */
export const LAMBDA_CREDENTIALS_ALIAS = {
  '@aws-sdk/credential-provider-node': `${PROJECT_ROOT}functions/shared/runtime/lambda-credentials.ts`,
} as const;

/** esbuild settings shared by every handler (the bundle-size benchmark uses them too). */
export const HANDLER_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Bundle the SDK v3 clients rather than rely on the runtime's copy: pinned versions, tree-shaken.
  // Event streams are loaded by a dynamic import only for event-stream operations, which no handler
  // calls (ECS, DynamoDB, Step Functions, SNS, SSM, Secrets Manager, CloudWatch): leaving them out
  // saves 15 KB per bundle, and reaching that import would fail loudly, never silently.
  externalModules: ['@smithy/core/event-streams'],
  // ES module bundles of CommonJS dependencies still call require().
  banner: "import { createRequire as __assureCreateRequire } from 'node:module'; const require = __assureCreateRequire(import.meta.url);",
  forceDockerBundling: false,
  esbuildArgs: Object.fromEntries(Object.entries(LAMBDA_CREDENTIALS_ALIAS).map(([from, to]) => [`--alias:${from}`, to])),
} as const satisfies BundlingOptions;

export interface HandlerFunctionProps {
  /** The handler to deploy. */
  readonly definition: AnyHandlerDefinition;
  /** Physical function name. */
  readonly functionName: string;
  /** Environment variables (the Assure configuration). */
  readonly environment: Readonly<Record<string, string>>;
  /** The resolved fleet as JSON, copied beside the bundle as fleet.json. */
  readonly bundledFleetPath: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** The customer-managed key the function's log group is encrypted with. @default - CloudWatch Logs' own encryption */
  readonly logsKey?: IKey;
  /** Run inside this VPC (for functions that call tasks directly). @default - not in a VPC */
  readonly vpc?: { readonly vpc: IVpc; readonly subnets: SubnetSelection; readonly securityGroups: ISecurityGroup[] };
}

export class HandlerFunction extends Construct {
  readonly function: NodejsFunction;
  /** The function's own role: its log group, tracing, and whatever the workflow grants it. */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroupName = `/aws/lambda/${props.functionName}`;
    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.logsKey ? { encryptionKey: props.logsKey } : {}),
    });
    // An inline role instead of AWSLambdaBasicExecutionRole: it may write to this function's log group only.
    // Confined: its statements on "*" (tracing, the VPC attachment) are kept apart from its own grants (nag.ts).
    this.role = new WildcardConfinedRole(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: ${props.definition.description}`.slice(0, 1000),
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${logGroupName}:log-stream:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ],
      }),
    );
    if (props.vpc) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    acknowledgeWildcards(this, [nagArn(this, 'logs', `log-group:${logGroupName}:log-stream:*`)], 'The Lambda runtime names the log streams.');
    const fleetFile = props.bundledFleetPath;
    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.definition.description,
      entry: `${PROJECT_ROOT}${handlerEntry(props.definition)}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(props.definition.timeoutSeconds ?? 30),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      ...(props.vpc ? { vpc: props.vpc.vpc, vpcSubnets: props.vpc.subnets, securityGroups: props.vpc.securityGroups } : {}),
      bundling: {
        ...HANDLER_BUNDLING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [`cp "${fleetFile}" "${outputDir}/${BUNDLED_FLEET_FILE}"`],
        },
      },
    });
  }
}
