import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { setHaltFlagHandler } from './core';

export const handler = lambdaHandler(setHaltFlagHandler, { ssm: SSMClient, dynamodb: DynamoDBClient });
