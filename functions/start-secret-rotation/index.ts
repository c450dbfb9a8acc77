import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { startSecretRotation } from './core';

export const handler = lambdaHandler(startSecretRotation, { dynamodb: DynamoDBClient, secretsManager: SecretsManagerClient });
