import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { clearHaltFlagHandler } from './core';

export const handler = lambdaHandler(clearHaltFlagHandler, { ssm: SSMClient, dynamodb: DynamoDBClient });
