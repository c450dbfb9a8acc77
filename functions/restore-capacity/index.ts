import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { restoreCapacity } from './core';

export const handler = lambdaHandler(restoreCapacity, { dynamodb: DynamoDBClient, ecs: ECSClient });
