import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { validateResumeRequest } from './core';

export const handler = lambdaHandler(validateResumeRequest, { ssm: SSMClient, dynamodb: DynamoDBClient });
