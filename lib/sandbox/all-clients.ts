/** Every client class, for the sandbox and the CLI (never imported by a Lambda entry). */
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
import type { ClientClasses, ClientName } from '../../functions/shared/runtime/clients';

/** Elastic Load Balancing v2 (`elbv2`), which the canary judge reads (listener rules, target health). */
const LOAD_BALANCING = { elbv2: ElasticLoadBalancingV2Client };

export const ALL_CLIENT_CLASSES: ClientClasses<ClientName> = {
  ...LOAD_BALANCING,
  ecs: ECSClient,
  dynamodb: DynamoDBClient,
  sfn: SFNClient,
  cloudwatch: CloudWatchClient,
  ssm: SSMClient,
  secretsManager: SecretsManagerClient,
  sns: SNSClient,
  elbv2: ElasticLoadBalancingV2Client,
  s3: S3Client,
  kms: KMSClient,
};
