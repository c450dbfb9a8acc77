import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { advanceRelease } from './core';

export const handler = lambdaHandler(advanceRelease, { dynamodb: DynamoDBClient, ecs: ECSClient });
