import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { releaseDeployLock } from './core';

export const handler = lambdaHandler(releaseDeployLock, { dynamodb: DynamoDBClient });
