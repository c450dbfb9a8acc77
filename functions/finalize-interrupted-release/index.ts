import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SNSClient } from '@aws-sdk/client-sns';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { finalizeInterruptedRelease } from './core';

export const handler = lambdaHandler(finalizeInterruptedRelease, { dynamodb: DynamoDBClient, ecs: ECSClient, sns: SNSClient });
