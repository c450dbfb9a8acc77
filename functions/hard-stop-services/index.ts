import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { hardStopServices } from './core';

export const handler = lambdaHandler(hardStopServices, { dynamodb: DynamoDBClient, ecs: ECSClient });
