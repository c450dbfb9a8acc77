/**
 * Routes AWS SDK v3 clients to the simulated services. A middleware answers each
 * command from the simulated service instead of sending HTTP; errors become the
 * SDK's own exception classes (so `instanceof ConditionalCheckFailedException`
 * and `error.name` behave exactly as against AWS).
 */
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import * as ecs from '@aws-sdk/client-ecs';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as s3 from '@aws-sdk/client-s3';
import * as kms from '@aws-sdk/client-kms';
import * as secretsManager from '@aws-sdk/client-secrets-manager';
import * as sfn from '@aws-sdk/client-sfn';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import type { Pluggable } from '@smithy/types';
import { SimulatedAwsError } from './aws-error';
import type { FaultInjector } from './fault-injection';
import type { IamAuthorizer, RoleSession } from './iam/authorizer';
import type { ResourceLookups } from './iam/request-resources';
import type { VirtualClock } from './virtual-clock';

export interface SimulatedService {
  handle(operation: string, input: Record<string, unknown>): Promise<unknown>;
}

export interface ApiCall {
  readonly at: number;
  readonly service: string;
  readonly operation: string;
  readonly input: unknown;
  readonly error?: string;
}

interface ServiceExceptionClass {
  new (options: { name?: string; $fault: 'client' | 'server'; message: string; $metadata: object }): Error;
}

/** Client name (as the SDK reports it) → service key and the package's exports (its exception classes). */
const CLIENT_PACKAGES: Record<string, { key: string; exports: Record<string, unknown>; base: string }> = {
  ECSClient: { key: 'ecs', exports: ecs, base: 'ECSServiceException' },
  DynamoDBClient: { key: 'dynamodb', exports: dynamodb, base: 'DynamoDBServiceException' },
  SFNClient: { key: 'sfn', exports: sfn, base: 'SFNServiceException' },
  CloudWatchClient: { key: 'cloudwatch', exports: cloudwatch, base: 'CloudWatchServiceException' },
  SSMClient: { key: 'ssm', exports: ssm, base: 'SSMServiceException' },
  SecretsManagerClient: { key: 'secretsmanager', exports: secretsManager, base: 'SecretsManagerServiceException' },
  SNSClient: { key: 'sns', exports: sns, base: 'SNSServiceException' },
  KMSClient: { key: 'kms', exports: kms, base: 'KMSServiceException' },
  ElasticLoadBalancingV2Client: { key: 'elasticloadbalancing', exports: elbv2, base: 'ElasticLoadBalancingV2ServiceException' },
  S3Client: { key: 's3', exports: s3, base: 'S3ServiceException' },
};

/**
 * Error codes that are not the SDK's class name: awsQuery services answer with a
 * code of their own, which each class's `awsQueryError` trait names.
 */
const QUERY_ERROR_CLASSES: Record<string, Record<string, string>> = {
  CloudWatchClient: {
    InvalidParameterValue: 'InvalidParameterValueException',
    MissingParameter: 'MissingRequiredParameterException',
    InvalidParameterCombination: 'InvalidParameterCombinationException',
    InvalidFormat: 'InvalidFormatFault',
    LimitExceeded: 'LimitExceededFault',
    InternalServiceError: 'InternalServiceFault',
    ValidationError: 'ValidationException',
    InvalidParameterInput: 'DashboardInvalidInputError',
  },
};

export function toSdkError(clientName: string, error: SimulatedAwsError, requestId: string): Error {
  const pkg = CLIENT_PACKAGES[clientName];
  const $metadata = { httpStatusCode: error.httpStatusCode, requestId, attempts: 1, totalRetryDelay: 0 };
  const Base = pkg?.exports[pkg.base] as ServiceExceptionClass | undefined;
  const Specific = pkg?.exports[QUERY_ERROR_CLASSES[clientName]?.[error.code] ?? error.code] as ServiceExceptionClass | undefined;
  if (Specific && Base && Specific.prototype instanceof Base) {
    return new Specific({ ...error.details, $fault: error.fault, message: error.message, $metadata });
  }
  if (Base) return new Base({ name: error.code, $fault: error.fault, message: error.message, $metadata });
  return error;
}

/** IAM for calls made as a role: who decides, and what the services know about the resources named. */
export interface TransportAuthorization {
  readonly authorizer: IamAuthorizer;
  readonly lookups: ResourceLookups;
}

export class SdkTransport {
  readonly calls: ApiCall[] = [];
  private requestCounter = 0;
  private authorization: TransportAuthorization | undefined;

  constructor(
    private readonly services: Record<string, SimulatedService>,
    private readonly clock: VirtualClock,
    private readonly faults: FaultInjector,
  ) {}

  /** From now on, calls made as a role are authorized before the simulated service sees them. */
  enforce(authorization: TransportAuthorization): void {
    this.authorization = authorization;
  }

  get authorizer(): IamAuthorizer | undefined {
    return this.authorization?.authorizer;
  }

  /**
   * The plugin to pass to createAwsClients. With a session, every request is
   * tagged with it (the caller's role) and authorized; without one, the caller
   * is the account's operator, whom the stack's policies do not govern.
   */
  plugin(session?: RoleSession): Pluggable<object, object> {
    return {
      applyToStack: (stack) => {
        stack.add(
          (_next, context) => async (args) => {
            const clientName = context.clientName ?? '';
            const operation = (context.commandName ?? '').replace(/Command$/, '');
            const output = await this.call(clientName, operation, args.input as Record<string, unknown>, session);
            return { output: output as object, response: {} };
          },
          // Inside the transient-error middleware (initialize/high), before serialization.
          { step: 'initialize', priority: 'low', name: 'assureSandboxTransport' },
        );
      },
    };
  }

  async call(clientName: string, operation: string, input: Record<string, unknown>, session?: RoleSession): Promise<unknown> {
    const pkg = CLIENT_PACKAGES[clientName];
    const key = pkg?.key ?? clientName;
    const service = this.services[key];
    const requestId = `sandbox-${(this.requestCounter += 1).toString().padStart(8, '0')}`;
    if (!service) throw new Error(`The sandbox has no simulated ${clientName}`);
    try {
      // IAM decides before the service sees the request.
      if (session && this.authorization) this.authorization.authorizer.authorizeCall(session, key, operation, input ?? {}, this.authorization.lookups);
      // Injected latency is virtual waiting, so it happens outside the tracked (real) work.
      await this.faults.beforeCall(key, operation);
    } catch (error) {
      if (!(error instanceof SimulatedAwsError)) throw error;
      this.calls.push({ at: Date.now(), service: key, operation, input, error: error.code });
      throw toSdkError(clientName, error, requestId);
    }
    return this.clock.track(async () => {
      try {
        // Callers must not share objects with the simulated service: AWS sees a serialized copy.
        const result = await service.handle(operation, structuredClone(input ?? {}));
        this.calls.push({ at: Date.now(), service: key, operation, input });
        return { ...(result as object), $metadata: { httpStatusCode: 200, requestId, attempts: 1, totalRetryDelay: 0 } };
      } catch (error) {
        if (error instanceof SimulatedAwsError) {
          this.calls.push({ at: Date.now(), service: key, operation, input, error: error.code });
          throw toSdkError(clientName, error, requestId);
        }
        throw error;
      }
    });
  }
}
