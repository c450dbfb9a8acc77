import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { validateDeployRequest } from './core';

export const handler = lambdaHandler(validateDeployRequest, { dynamodb: DynamoDBClient });
