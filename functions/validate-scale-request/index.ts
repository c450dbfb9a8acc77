import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { validateScaleRequest } from './core';

export const handler = lambdaHandler(validateScaleRequest, { dynamodb: DynamoDBClient });
