import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { validateRollbackRequest } from './core';

export const handler = lambdaHandler(validateRollbackRequest, { dynamodb: DynamoDBClient });
