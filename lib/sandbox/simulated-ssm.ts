/**
 * SSM Parameter Store: parameters with versions and tiers, as GetParameter and
 * PutParameter document them (API Reference; user guide "Managing parameter
 * tiers"): a standard parameter's value holds up to 4,096 characters, an
 * advanced one's 8,192; Intelligent-Tiering picks advanced only for a larger
 * value; an advanced parameter cannot go back to standard.
 */
import { SimulatedAwsError } from './aws-error';
import type { SimulatedService } from './sdk-transport';

export interface ParameterRecord {
  Name: string;
  Value: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Version: number;
  LastModifiedDate: number;
  /** Absent in snapshots written before tiers: Standard. */
  Tier?: ParameterTier;
}

type ParameterTier = 'Standard' | 'Advanced';

const STANDARD_VALUE_LIMIT = 4096;
const ADVANCED_VALUE_LIMIT = 8192;
const TYPES = ['String', 'StringList', 'SecureString'];
const TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'];

export class SimulatedSsm implements SimulatedService {
  private readonly parameters = new Map<string, ParameterRecord>();

  constructor(private readonly context: { readonly account: string; readonly region: string }) {}

  snapshot(): ParameterRecord[] {
    return [...this.parameters.values()].map((p) => ({ ...p }));
  }

  restore(records: readonly ParameterRecord[]): void {
    for (const record of records) this.parameters.set(record.Name, { ...record });
  }

  parameter(name: string): ParameterRecord | undefined {
    return this.parameters.get(name);
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'GetParameter': {
        const parameter = this.parameters.get(String(input.Name ?? ''));
        if (!parameter) throw new SimulatedAwsError('ParameterNotFound', `Parameter ${String(input.Name)} not found.`);
        // GetParameter's Parameter has no Tier (DescribeParameters reports it).
        const { Tier: _tier, ...fields } = parameter;
        return {
          Parameter: {
            ...fields,
            LastModifiedDate: new Date(parameter.LastModifiedDate),
            ARN: `arn:aws:ssm:${this.context.region}:${this.context.account}:parameter${parameter.Name.startsWith('/') ? '' : '/'}${parameter.Name}`,
            DataType: 'text',
          },
        };
      }
      case 'PutParameter':
        return this.putParameter(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement SSM ${operation}`);
    }
  }

  private putParameter(input: Record<string, unknown>): { Version: number; Tier: ParameterTier } {
    const name = String(input.Name ?? '');
    const value = input.Value;
    if (!name)
      throw new SimulatedAwsError(
        'ValidationException',
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
      );
    if (/^\/?(aws|ssm)/i.test(name))
      throw new SimulatedAwsError('ValidationException', 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
    if (typeof value !== 'string' || value.length === 0) {
      throw new SimulatedAwsError(
        'ValidationException',
        "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (input.Type !== undefined && !TYPES.includes(String(input.Type))) {
      throw new SimulatedAwsError(
        'ValidationException',
        `1 validation error detected: Value '${String(input.Type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [${TYPES.join(', ')}]`,
      );
    }
    if (input.Tier !== undefined && !TIERS.includes(String(input.Tier))) {
      throw new SimulatedAwsError(
        'ValidationException',
        `1 validation error detected: Value '${String(input.Tier)}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [${TIERS.join(', ')}]`,
      );
    }
    if (value.length > ADVANCED_VALUE_LIMIT) {
      throw new SimulatedAwsError(
        'ValidationException',
        `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${ADVANCED_VALUE_LIMIT}`,
      );
    }
    const existing = this.parameters.get(name);
    if (existing && input.Overwrite !== true) {
      throw new SimulatedAwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const tier = this.tierFor(input.Tier as string | undefined, existing?.Tier ?? (existing ? 'Standard' : undefined), value.length);
    const record: ParameterRecord = {
      Name: name,
      Value: value,
      Type: (input.Type as ParameterRecord['Type'] | undefined) ?? existing?.Type ?? 'String',
      Version: (existing?.Version ?? 0) + 1,
      LastModifiedDate: Date.now(),
      Tier: tier,
    };
    this.parameters.set(name, record);
    return { Version: record.Version, Tier: tier };
  }

  /** The tier a PutParameter gives: the requested one (the account default, Standard, when none), checked against the value's size. */
  private tierFor(requested: string | undefined, current: ParameterTier | undefined, length: number): ParameterTier {
    if (current === 'Advanced' && requested === 'Standard') {
      throw new SimulatedAwsError(
        'ValidationException',
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
      );
    }
    const tier: ParameterTier =
      requested === 'Advanced' || current === 'Advanced' || (requested === 'Intelligent-Tiering' && length > STANDARD_VALUE_LIMIT) ? 'Advanced' : 'Standard';
    if (tier === 'Standard' && length > STANDARD_VALUE_LIMIT) {
      throw new SimulatedAwsError(
        'ValidationException',
        'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html',
      );
    }
    return tier;
  }
}
