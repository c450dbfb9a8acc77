import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { stopDeployExecutions } from './core';

export const handler = lambdaHandler(stopDeployExecutions, { dynamodb: DynamoDBClient, sfn: SFNClient, ecs: ECSClient });
