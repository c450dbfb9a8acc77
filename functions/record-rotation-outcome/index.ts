import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { recordRotationOutcome } from './core';

export const handler = lambdaHandler(recordRotationOutcome, { dynamodb: DynamoDBClient, sns: SNSClient });
