import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { sendResumeCommands } from './core';

export const handler = lambdaHandler(sendResumeCommands, { dynamodb: DynamoDBClient, ecs: ECSClient, secretsManager: SecretsManagerClient });
