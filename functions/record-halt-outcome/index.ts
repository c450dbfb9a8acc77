import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { recordHaltOutcome } from './core';

export const handler = lambdaHandler(recordHaltOutcome, { dynamodb: DynamoDBClient });
