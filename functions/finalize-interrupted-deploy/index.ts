import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { finalizeInterruptedDeploy } from './core';

export const handler = lambdaHandler(finalizeInterruptedDeploy, { dynamodb: DynamoDBClient });
