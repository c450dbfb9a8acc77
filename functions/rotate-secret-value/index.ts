import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaHandler } from '../shared/runtime/lambda-runtime';
import { rotateSecretValue } from './core';

export const handler = lambdaHandler(rotateSecretValue, { secretsManager: SecretsManagerClient });
