import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/lambda-runtime';
import { stopDeployExecutions } from './core';

export const handler = lambdaHandler(stopDeployExecutions, { dynamodb: DynamoDBClient, sfn: SFNClient });
