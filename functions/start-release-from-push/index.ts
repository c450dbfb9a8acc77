import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { startReleaseFromPush } from './core';

export const handler = lambdaHandler(startReleaseFromPush, { dynamodb: DynamoDBClient, sfn: SFNClient, ssm: SSMClient, sns: SNSClient });
