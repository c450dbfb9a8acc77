import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { restartConsumerTasks } from './core';

export const handler = lambdaHandler(restartConsumerTasks, { dynamodb: DynamoDBClient, ecs: ECSClient });
