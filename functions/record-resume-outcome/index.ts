import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { recordResumeOutcome } from './core';

export const handler = lambdaHandler(recordResumeOutcome, { dynamodb: DynamoDBClient, sns: SNSClient });
