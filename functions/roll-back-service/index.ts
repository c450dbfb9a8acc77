import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { rollBackService } from './core';

export const handler = lambdaHandler(rollBackService, { dynamodb: DynamoDBClient, ecs: ECSClient });
