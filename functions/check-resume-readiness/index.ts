import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { checkResumeReadiness } from './core';

export const handler = lambdaHandler(checkResumeReadiness, { ssm: SSMClient, cloudwatch: CloudWatchClient, ecs: ECSClient, dynamodb: DynamoDBClient });
