import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { confirmSecretRotation } from './core';

export const handler = lambdaHandler(confirmSecretRotation, { secretsManager: SecretsManagerClient });
