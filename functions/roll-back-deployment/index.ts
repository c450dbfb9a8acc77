import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { rollBackDeployment } from './core';

export const handler = lambdaHandler(rollBackDeployment, { dynamodb: DynamoDBClient, ecs: ECSClient });
