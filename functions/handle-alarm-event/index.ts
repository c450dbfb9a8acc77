import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/lambda-runtime';
import { handleAlarmEvent } from './core';

export const handler = lambdaHandler(handleAlarmEvent, { dynamodb: DynamoDBClient, sfn: SFNClient });
