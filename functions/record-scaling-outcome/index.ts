import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { recordScalingOutcome } from './core';

export const handler = lambdaHandler(recordScalingOutcome, { dynamodb: DynamoDBClient, sns: SNSClient });
