import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { recordRollbackOutcome } from './core';

export const handler = lambdaHandler(recordRollbackOutcome, { dynamodb: DynamoDBClient, sns: SNSClient });
