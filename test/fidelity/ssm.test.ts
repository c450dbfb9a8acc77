/**
 * SSM Parameter Store, held to the API Reference (PutParameter:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html,
 * GetParameter: .../API_GetParameter.html) and the user guide's "Managing
 * parameter tiers" (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
 */
import { ParameterAlreadyExists, ParameterNotFound, SSMServiceException } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { toSdkError } from '../../lib/sandbox/sdk-transport';
import { SimulatedSsm } from '../../lib/sandbox/simulated-ssm';

const ssm = (): SimulatedSsm => new SimulatedSsm({ account: '111122223333', region: 'eu-west-2' });

async function call(service: SimulatedSsm, operation: string, input: Record<string, unknown>): Promise<{ output?: unknown; error?: Error }> {
  try {
    return { output: await service.handle(operation, input) };
  } catch (error) {
    if (!(error instanceof SimulatedAwsError)) throw error;
    return { error: toSdkError('SSMClient', error, 'test') };
  }
}

describe('SSM PutParameter value size per tier (Managing parameter tiers)', () => {
  it('a standard parameter holds 4,096 characters; 4,097 fail with ValidationException, in AWS words', async () => {
    const service = ssm();
    expect((await call(service, 'PutParameter', { Name: '/t/ok', Value: 'x'.repeat(4096), Type: 'String' })).output).toEqual({ Version: 1, Tier: 'Standard' });
    const { error } = await call(service, 'PutParameter', { Name: '/t/big', Value: 'x'.repeat(4097), Type: 'String' });
    expect(error).toBeInstanceOf(SSMServiceException);
    expect(error?.name).toBe('ValidationException');
    expect(error?.message).toBe(
      'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html',
    );
    expect(service.parameter('/t/big')).toBeUndefined();
  });

  it('an advanced parameter holds 8,192 characters, not 8,193', async () => {
    const service = ssm();
    expect((await call(service, 'PutParameter', { Name: '/t/adv', Value: 'x'.repeat(8192), Type: 'String', Tier: 'Advanced' })).output).toEqual({
      Version: 1,
      Tier: 'Advanced',
    });
    const { error } = await call(service, 'PutParameter', { Name: '/t/adv2', Value: 'x'.repeat(8193), Type: 'String', Tier: 'Advanced' });
    expect(error?.name).toBe('ValidationException');
  });

  it('Intelligent-Tiering makes a parameter advanced only when its value needs it; advanced never goes back to standard', async () => {
    const service = ssm();
    expect((await call(service, 'PutParameter', { Name: '/t/s', Value: 'small', Tier: 'Intelligent-Tiering' })).output).toMatchObject({ Tier: 'Standard' });
    expect((await call(service, 'PutParameter', { Name: '/t/l', Value: 'x'.repeat(5000), Tier: 'Intelligent-Tiering' })).output).toMatchObject({
      Tier: 'Advanced',
    });
    const { error } = await call(service, 'PutParameter', { Name: '/t/l', Value: 'small', Tier: 'Standard', Overwrite: true });
    expect(error?.name).toBe('ValidationException');
    expect((await call(service, 'PutParameter', { Name: '/t/l', Value: 'small', Overwrite: true })).output).toEqual({ Version: 2, Tier: 'Advanced' });
  });
});

describe('SSM PutParameter and GetParameter errors (API Reference)', () => {
  it('PutParameter without Overwrite on an existing parameter: ParameterAlreadyExists, value unchanged', async () => {
    const service = ssm();
    await call(service, 'PutParameter', { Name: '/t/p', Value: 'one', Type: 'String' });
    const { error } = await call(service, 'PutParameter', { Name: '/t/p', Value: 'two', Type: 'String' });
    expect(error).toBeInstanceOf(ParameterAlreadyExists);
    expect(service.parameter('/t/p')).toMatchObject({ Value: 'one', Version: 1 });
    expect((await call(service, 'PutParameter', { Name: '/t/p', Value: 'two', Overwrite: true })).output).toMatchObject({ Version: 2 });
  });

  it('GetParameter of a parameter that does not exist: ParameterNotFound', async () => {
    expect((await call(ssm(), 'GetParameter', { Name: '/t/none' })).error).toBeInstanceOf(ParameterNotFound);
  });

  it('refuses names prefixed aws or ssm, and an empty value', async () => {
    const service = ssm();
    for (const Name of ['aws-thing', '/ssm/thing', 'AWSx'])
      expect((await call(service, 'PutParameter', { Name, Value: 'v' })).error?.name).toBe('ValidationException');
    expect((await call(service, 'PutParameter', { Name: '/t/e', Value: '' })).error?.name).toBe('ValidationException');
  });
});
