import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { startRotationFromEvent } from './core';

export const handler = lambdaHandler(startRotationFromEvent, { dynamodb: DynamoDBClient, sfn: SFNClient, secretsManager: SecretsManagerClient });
