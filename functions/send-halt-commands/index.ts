import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { sendHaltCommands } from './core';

export const handler = lambdaHandler(sendHaltCommands, { dynamodb: DynamoDBClient, ecs: ECSClient, secretsManager: SecretsManagerClient });
