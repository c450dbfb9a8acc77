import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { startSoak } from './core';

export const handler = lambdaHandler(startSoak, { dynamodb: DynamoDBClient, sfn: SFNClient, cloudwatch: CloudWatchClient });
