import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { decideReleaseApproval } from './core';

export const handler = lambdaHandler(decideReleaseApproval, { dynamodb: DynamoDBClient });
