import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { handleDeploymentEvent } from './core';

export const handler = lambdaHandler(handleDeploymentEvent, { dynamodb: DynamoDBClient, sfn: SFNClient });
