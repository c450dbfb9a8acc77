import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { recordDeployOutcome } from './core';

export const handler = lambdaHandler(recordDeployOutcome, { dynamodb: DynamoDBClient });
