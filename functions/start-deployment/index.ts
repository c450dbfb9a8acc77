import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { startRollingDeployment } from './core';

export const handler = lambdaHandler(startRollingDeployment, { dynamodb: DynamoDBClient, ecs: ECSClient });
