import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SNSClient } from '@aws-sdk/client-sns';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { recordReleaseOutcome } from './core';

export const handler = lambdaHandler(recordReleaseOutcome, { dynamodb: DynamoDBClient, ecs: ECSClient, sns: SNSClient });
