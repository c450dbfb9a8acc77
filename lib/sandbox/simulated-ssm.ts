/** SSM Parameter Store: String parameters with versions, as GetParameter/PutParameter document them. */
import { SimulatedAwsError } from './aws-error';
import type { SimulatedService } from './sdk-transport';

export interface ParameterRecord {
  Name: string;
  Value: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Version: number;
  LastModifiedDate: number;
}

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
        return {
          Parameter: {
            ...parameter,
            LastModifiedDate: new Date(parameter.LastModifiedDate),
            ARN: `arn:aws:ssm:${this.context.region}:${this.context.account}:parameter${parameter.Name.startsWith('/') ? '' : '/'}${parameter.Name}`,
            DataType: 'text',
          },
        };
      }
      case 'PutParameter': {
        const name = String(input.Name ?? '');
        const value = input.Value;
        if (!name) throw new SimulatedAwsError('ValidationException', 'Parameter name is required');
        if (typeof value !== 'string' || value.length === 0) throw new SimulatedAwsError('ValidationException', 'Parameter value must not be empty');
        if (value.length > 8192) throw new SimulatedAwsError('ParameterMaxVersionLimitExceeded', 'Value exceeds the maximum size');
        const existing = this.parameters.get(name);
        if (existing && input.Overwrite !== true) {
          throw new SimulatedAwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
        }
        const record: ParameterRecord = {
          Name: name,
          Value: value,
          Type: (input.Type as ParameterRecord['Type'] | undefined) ?? existing?.Type ?? 'String',
          Version: (existing?.Version ?? 0) + 1,
          LastModifiedDate: Date.now(),
        };
        this.parameters.set(name, record);
        return { Version: record.Version, Tier: 'Standard' };
      }
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement SSM ${operation}`);
    }
  }
}
