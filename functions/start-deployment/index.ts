import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { startDeployment } from './core';

export const handler = lambdaHandler(startDeployment, { dynamodb: DynamoDBClient, ecs: ECSClient });
