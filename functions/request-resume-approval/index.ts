import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { requestResumeApproval } from './core';

export const handler = lambdaHandler(requestResumeApproval, { dynamodb: DynamoDBClient, sns: SNSClient, kms: KMSClient });
