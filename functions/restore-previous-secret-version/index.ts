import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { restorePreviousSecretVersion } from './core';

export const handler = lambdaHandler(restorePreviousSecretVersion, { dynamodb: DynamoDBClient, secretsManager: SecretsManagerClient });
