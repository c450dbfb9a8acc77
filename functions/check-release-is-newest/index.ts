import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { checkReleaseIsNewest } from './core';

export const handler = lambdaHandler(checkReleaseIsNewest, { dynamodb: DynamoDBClient });
