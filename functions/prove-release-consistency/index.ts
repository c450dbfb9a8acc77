import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { proveReleaseConsistency } from './core';

export const handler = lambdaHandler(proveReleaseConsistency, { dynamodb: DynamoDBClient, ecs: ECSClient });
