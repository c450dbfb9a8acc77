import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { planReleaseRollback } from './core';

export const handler = lambdaHandler(planReleaseRollback, { dynamodb: DynamoDBClient });
