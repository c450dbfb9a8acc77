import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { verifyConsumerTasks } from './core';

export const handler = lambdaHandler(verifyConsumerTasks, { dynamodb: DynamoDBClient, ecs: ECSClient });
