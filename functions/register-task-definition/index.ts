import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { registerTaskDefinition } from './core';

export const handler = lambdaHandler(registerTaskDefinition, { dynamodb: DynamoDBClient, ecs: ECSClient });
