import { DescribeSecretCommand, type SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { restorePreviousSecretVersion } from '../../../functions/restore-previous-secret-version/core';
import { SecretRestoreError } from '../../../functions/shared/runtime/errors';
import type { RotationPlan } from '../../../functions/shared/domain/rotation-plan';
import { type TestDeps, testDeps } from '../../support/handler-deps';

const EXECUTION_ID = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-rotate-secret:rotate-1';
const PREVIOUS = 'v-previous-0000000000000000000000000001';
const ROTATED = 'v-rotated-00000000000000000000000000002';

function plan(secret: string, secretName: string, variable: string): RotationPlan {
  return {
    secret,
    secretName,
    secretArn: `arn:aws:secretsmanager:eu-west-2:111122223333:secret:${secretName}-AbCdEf`,
    variable,
    requestedBy: 'alice',
    reason: 'test',
    source: 'console',
    previousVersionId: PREVIOUS,
    rotatedVersionId: ROTATED,
  };
}

let deps: TestDeps;
let secrets: AwsClientStub<SecretsManagerClient>;

beforeEach(() => {
  deps = testDeps();
  mockClient(deps.clients.dynamodb).on(PutItemCommand).resolves({});
  secrets = mockClient(deps.clients.secretsManager);
  secrets.on(UpdateSecretVersionStageCommand).resolves({});
});

describe('restore-previous-secret-version', () => {
  it('makes the previous version AWSCURRENT again when the rotated one became current', async () => {
    secrets
      .on(DescribeSecretCommand)
      .resolvesOnce({ VersionIdsToStages: { [PREVIOUS]: ['AWSPREVIOUS'], [ROTATED]: ['AWSCURRENT', 'AWSPENDING'] } })
      .resolves({ VersionIdsToStages: { [PREVIOUS]: ['AWSCURRENT'], [ROTATED]: ['AWSPREVIOUS', 'AWSPENDING'] } });

    await restorePreviousSecretVersion.core(
      { executionId: EXECUTION_ID, plan: plan('order-signing-key', 'prod/trading/order-signing-key', 'ORDER_SIGNING_KEY'), rotation: null },
      deps,
    );

    expect(secrets).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: PREVIOUS,
      RemoveFromVersionId: ROTATED,
    });
  });

  it('leaves a downstream credential on the rotated version: the downstream system no longer accepts the previous one', async () => {
    secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { [PREVIOUS]: ['AWSPREVIOUS'], [ROTATED]: ['AWSCURRENT'] } });

    const restoring = restorePreviousSecretVersion.core(
      { executionId: EXECUTION_ID, plan: plan('venue-session-password', 'prod/venue/xlon-session-password', 'VENUE_SESSION_PASSWORD'), rotation: null },
      deps,
    );

    await expect(restoring).rejects.toBeInstanceOf(SecretRestoreError);
    await expect(restoring).rejects.toThrow(/downstream system already accepts only the rotated version/);
    expect(secrets).not.toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { VersionStage: 'AWSCURRENT' });
  });
});
