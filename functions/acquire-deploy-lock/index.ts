import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { acquireDeployLock } from './core';

export const handler = lambdaHandler(acquireDeployLock, { dynamodb: DynamoDBClient });
