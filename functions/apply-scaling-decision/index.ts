import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { applyScalingDecision } from './core';

export const handler = lambdaHandler(applyScalingDecision, { dynamodb: DynamoDBClient, ecs: ECSClient });
