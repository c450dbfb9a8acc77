import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { decideResumeApproval } from './core';

export const handler = lambdaHandler(decideResumeApproval, { dynamodb: DynamoDBClient, sfn: SFNClient, kms: KMSClient });
