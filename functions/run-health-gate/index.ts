import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { runHealthGate } from './core';

export const handler = lambdaHandler(runHealthGate, { dynamodb: DynamoDBClient, ecs: ECSClient, cloudwatch: CloudWatchClient });
