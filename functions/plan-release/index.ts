import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { planRelease } from './core';

export const handler = lambdaHandler(planRelease, { dynamodb: DynamoDBClient, ecs: ECSClient, ssm: SSMClient });
