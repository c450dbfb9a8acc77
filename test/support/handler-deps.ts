/**
 * Dependencies for calling a handler core (or its middy wrapper) in a unit test:
 * real SDK client instances, to be stubbed with aws-sdk-client-mock.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { KMSClient } from '@aws-sdk/client-kms';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import type { AssureConfig } from '../../functions/shared/runtime/config';
import type { HandlerDeps } from '../../functions/shared/runtime/handler';
import type { HttpClient } from '../../functions/shared/runtime/http';
import { loadFleetFile } from '../../lib/fleet/fleet-file';
import { assureConfig } from '../../lib/naming';
import type { Fleet } from '../../lib/fleet/fleet';

export const EXAMPLE_FLEET_FILE = 'examples/trading-fleet.yaml';

export function exampleFleet(): Fleet {
  return loadFleetFile(EXAMPLE_FLEET_FILE);
}

/** The example fleet's configuration in the test account, derived as the stack and the sandbox derive it. */
export const testConfig: AssureConfig = assureConfig(exampleFleet(), { account: '111122223333', region: 'eu-west-2' });

export interface TestDeps extends HandlerDeps {
  readonly http: HttpClient & ReturnType<typeof vi.fn>;
}

/** Fresh client instances each time; stub them with `mockClient(deps.clients.ecs)`. */
export function testDeps(overrides: Partial<HandlerDeps> = {}): TestDeps {
  const config = { region: 'eu-west-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
  return {
    clients: {
      ecs: new ECSClient(config),
      dynamodb: new DynamoDBClient(config),
      sfn: new SFNClient(config),
      cloudwatch: new CloudWatchClient(config),
      ssm: new SSMClient(config),
      secretsManager: new SecretsManagerClient(config),
      sns: new SNSClient(config),
      elbv2: new ElasticLoadBalancingV2Client(config),
      s3: new S3Client(config),
      kms: new KMSClient(config),
    },
    config: testConfig,
    fleet: exampleFleet(),
    logger: new Logger({ serviceName: 'assure-test', logLevel: 'SILENT' }),
    http: vi.fn<HttpClient>(),
    ...overrides,
  } as TestDeps;
}

export const lambdaContext = (functionName = 'test-function'): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:eu-west-2:111122223333:function:${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

export const EXECUTION_ID = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-deploy:order-gateway-1';
