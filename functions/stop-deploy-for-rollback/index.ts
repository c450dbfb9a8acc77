import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { stopDeployForRollback } from './core';

export const handler = lambdaHandler(stopDeployForRollback, { dynamodb: DynamoDBClient, sfn: SFNClient });
