import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { validateRotationRequest } from './core';

export const handler = lambdaHandler(validateRotationRequest, { dynamodb: DynamoDBClient, secretsManager: SecretsManagerClient });
