/**
 * The AWS SDK clients handlers receive. Each handler declares the clients it
 * needs, and its Lambda entry passes only those classes, so a bundle carries only
 * the SDK clients it uses. The sandbox builds the same clients with a simulated
 * transport plugged in.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentity, Pluggable } from '@smithy/types';
import { isTransientAwsError } from './aws-errors';
import { AwsTransientError } from './errors';

export interface AwsClients {
  readonly ecs: ECSClient;
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly cloudwatch: CloudWatchClient;
  readonly ssm: SSMClient;
  readonly secretsManager: SecretsManagerClient;
  readonly sns: SNSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly s3: S3Client;
  readonly kms: KMSClient;
}

export type ClientName = keyof AwsClients;

export interface AwsClientConfig {
  readonly region: string;
  readonly maxAttempts: number;
  readonly credentials?: AwsCredentialIdentity;
}

export type ClientClasses<N extends ClientName> = {
  readonly [K in N]: new (config: AwsClientConfig) => AwsClients[K];
};

export interface AwsClientOptions {
  readonly region: string;
  readonly credentials?: AwsCredentialIdentity;
  /** Extra middleware for every client; the sandbox routes requests to its simulated services with it. */
  readonly plugins?: readonly Pluggable<object, object>[];
}

/**
 * Turns throttling and 5xx errors into AwsTransientError so the state machine's
 * Retry (the one retry layer) can match them by name.
 */
const transientErrorPlugin: Pluggable<object, object> = {
  applyToStack(stack) {
    stack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if (isTransientAwsError(error)) {
            const e = error as Error;
            throw new AwsTransientError(`${context.clientName ?? 'AWS'}.${context.commandName ?? 'call'}`, e.name, e.message, { cause: error });
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'assureTransientErrors', priority: 'high' },
    );
  },
};

interface PluggableClient {
  readonly middlewareStack: { use(plugin: Pluggable<object, object>): void };
}

export function createAwsClients<N extends ClientName>(classes: ClientClasses<N>, options: AwsClientOptions): Pick<AwsClients, N> {
  // One retry layer: the ASL. The SDK makes a single attempt per call.
  const config: AwsClientConfig = {
    region: options.region,
    maxAttempts: 1,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const clients = {} as Record<N, AwsClients[N]>;
  for (const name of Object.keys(classes) as N[]) {
    const client = new classes[name](config);
    const pluggable = client as unknown as PluggableClient;
    pluggable.middlewareStack.use(transientErrorPlugin);
    for (const plugin of options.plugins ?? []) pluggable.middlewareStack.use(plugin);
    clients[name] = client;
  }
  return clients as Pick<AwsClients, N>;
}
