/**
 * Lambda: functions are the project's real middy handlers, invoked in-process with
 * a Lambda context. As in the Lambda runtime, whatever a function writes to
 * stdout/stderr goes to its log group (`/aws/lambda/<name>`), not the terminal.
 * Errors come back as the runtime reports them: errorType (the error's name),
 * errorMessage and trace.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { LambdaHandler } from '../../functions/shared/runtime/handler';
import type { SeededRandom } from './deterministic';
import { sleep } from './virtual-clock';

export interface FunctionConfig {
  readonly functionName: string;
  readonly handler: LambdaHandler;
  readonly timeoutSeconds: number;
  readonly memorySize?: number;
}

export interface LogLine {
  readonly at: number;
  readonly message: string;
}

/** What a function error looks like to Step Functions: the runtime's error payload. */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    readonly trace: readonly string[],
  ) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

/** An HTTP request to a function URL, as its caller signed it. */
export interface FunctionUrlRequest {
  /** The principal IAM authenticated (AWS_IAM auth): a role session or user ARN. */
  readonly callerArn: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
}

/** What a function URL answers. */
export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Overhead of one warm invocation, in virtual time. */
export const LAMBDA_INVOKE_LATENCY_MS = 25;

const currentLogGroup = new AsyncLocalStorage<string>();

/**
 * Runs `work` outside any function's invocation: what a service does on its own
 * account (an execution a function started) does not write to that function's logs.
 */
export function outsideFunctionInvocations<T>(work: () => T): T {
  return currentLogGroup.exit(work);
}

/** A stream record as an event source mapping reads it: which stream it came from. */
export interface StreamEventRecord {
  readonly eventSourceARN: string;
  readonly dynamodb: { readonly SequenceNumber: string; readonly ApproximateCreationDateTime: number };
}

export interface EventSourceMappingConfig {
  readonly eventSourceArn: string;
  readonly functionName: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** Retries of a failing batch before it is given up; -1 retries until the record expires. @default -1 */
  readonly maximumRetryAttempts?: number;
  /** Split a failing batch in two and retry each half (a split does not count as a retry). @default false */
  readonly bisectBatchOnFunctionError?: boolean;
}

/** What Lambda sends to a stream mapping's on-failure destination for a batch it gave up on. */
export interface StreamBatchFailure {
  readonly at: number;
  readonly mappingUuid: string;
  readonly functionArn: string;
  readonly condition: 'RetryAttemptsExhausted';
  readonly errorType: string;
  readonly errorMessage: string;
  readonly approximateInvokeCount: number;
  readonly streamArn: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
}

/** How long a stream mapping takes to pick up new records (Lambda polls each shard about four times a second). */
export const STREAM_POLL_INTERVAL_MS = 250;
/** Pause before retrying a failed stream batch. */
const STREAM_RETRY_DELAY_MS = 1000;

interface EventSourceMapping {
  readonly uuid: string;
  readonly config: Required<EventSourceMappingConfig>;
  readonly pending: StreamEventRecord[];
  /** The batch being delivered (and retried) now. */
  inFlight: readonly StreamEventRecord[];
  polling: boolean;
  invocations: number;
}

/** A UUID-shaped id from a seed. */
const derivedUuid = (seed: string): string => {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

export class SimulatedLambda {
  private readonly mappings: EventSourceMapping[] = [];
  /** Batches stream mappings gave up on, as their on-failure destinations receive them. */
  readonly streamFailures: StreamBatchFailure[] = [];
  private readonly functions = new Map<string, FunctionConfig & { arn: string }>();
  readonly logs = new Map<string, LogLine[]>();
  readonly invocations: { at: number; functionName: string; error?: string }[] = [];
  private restoreStreams: (() => void) | undefined;
  private asyncInFlight = 0;

  constructor(private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom }) {}

  /** Starts capturing function output; returns the ARN for each function as it is created. */
  createFunction(config: FunctionConfig): string {
    const arn = `arn:aws:lambda:${this.context.region}:${this.context.account}:function:${config.functionName}`;
    this.functions.set(config.functionName, { ...config, arn });
    this.captureOutput();
    return arn;
  }

  functionArns(): string[] {
    return [...this.functions.values()].map((f) => f.arn);
  }

  /** RequestResponse invocation: resolves with the function's result or rejects with LambdaFunctionError. */
  async invoke(functionNameOrArn: string, payload: unknown, options: { readonly requestId?: string } = {}): Promise<unknown> {
    const name = functionNameOrArn.split(':').pop() ?? functionNameOrArn;
    const fn = this.functions.get(name);
    if (!fn) throw new LambdaFunctionError('ResourceNotFoundException', `Function not found: ${functionNameOrArn}`, []);
    await sleep(LAMBDA_INVOKE_LATENCY_MS);
    const requestId = options.requestId ?? this.context.random.uuid();
    const logGroup = `/aws/lambda/${fn.functionName}`;
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const lambdaContext: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memorySize ?? 256),
      awsRequestId: requestId,
      logGroupName: logGroup,
      logStreamName: `sandbox/[$LATEST]${requestId.replace(/-/g, '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    // The function sees a serialized copy of the payload, as over the wire.
    const event = JSON.parse(JSON.stringify(payload ?? null)) as unknown;
    this.appendLog(logGroup, `START RequestId: ${requestId} Version: $LATEST`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const result = await currentLogGroup.run(logGroup, () =>
        Promise.race([
          fn.handler(event, lambdaContext),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new LambdaFunctionError('Sandbox.Timedout', `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`, [])),
              fn.timeoutSeconds * 1000,
            );
          }),
        ]),
      );
      this.invocations.push({ at: Date.now(), functionName: fn.functionName });
      return JSON.parse(JSON.stringify(result ?? null)) as unknown;
    } catch (error) {
      const failure =
        error instanceof LambdaFunctionError
          ? error
          : new LambdaFunctionError((error as Error).name || 'Error', (error as Error).message, ((error as Error).stack ?? '').split('\n'));
      this.invocations.push({ at: Date.now(), functionName: fn.functionName, error: failure.errorType });
      this.appendLog(logGroup, `ERROR Invoke Error ${JSON.stringify({ errorType: failure.errorType, errorMessage: failure.errorMessage })}`);
      throw failure;
    } finally {
      clearTimeout(timer);
      this.appendLog(logGroup, `END RequestId: ${requestId}`);
    }
  }

  /**
   * A call through the function's URL (after IAM allowed it): the request payload
   * (version 2.0) with the caller in `requestContext.authorizer.iam`, and the
   * response as Lambda forms it: a result with `statusCode` is the response; any
   * other result is a 200 with the result as JSON; a function error is a bare 502.
   */
  async invokeUrl(functionNameOrArn: string, request: FunctionUrlRequest): Promise<FunctionUrlResponse> {
    const urlId = (functionNameOrArn.split(':').pop() ?? '')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 32);
    const domainName = `${urlId}.lambda-url.${this.context.region}.on.aws`;
    const callerAccount = request.callerArn.split(':')[4] ?? '';
    const session = request.callerArn.split('/').slice(1);
    const now = new Date();
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/',
      rawQueryString: '',
      headers: { host: domainName, 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      requestContext: {
        accountId: callerAccount,
        apiId: urlId,
        authorizer: {
          iam: {
            accessKey: 'ASIASANDBOXEXAMPLE',
            accountId: callerAccount,
            callerId: session.length === 2 ? `AROASANDBOX:${session[1] ?? ''}` : 'AIDASANDBOX',
            userArn: request.callerArn,
            userId: session.length === 2 ? `AROASANDBOX:${session[1] ?? ''}` : 'AIDASANDBOX',
          },
        },
        domainName,
        domainPrefix: urlId,
        http: { method: request.method, path: '/', protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'assure-cli' },
        requestId: this.context.random.uuid(),
        routeKey: '$default',
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      ...(request.body === undefined ? {} : { body: request.body }),
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await this.invoke(functionNameOrArn, event);
    } catch (error) {
      if (!(error instanceof LambdaFunctionError)) throw error;
      return { statusCode: 502, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Message: 'Internal Server Error' }) };
    }
    if (typeof result === 'object' && result !== null && 'statusCode' in result) {
      const response = result as { statusCode: number; headers?: Record<string, string>; body?: unknown };
      return { statusCode: response.statusCode, headers: response.headers ?? {}, body: typeof response.body === 'string' ? response.body : '' };
    }
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
  }

  /**
   * Event (asynchronous) invocation, as EventBridge uses: Lambda retries a function
   * error twice (after about one and then two minutes), then gives up.
   */
  invokeAsync(functionNameOrArn: string, payload: unknown): void {
    this.asyncInFlight += 1;
    const attempt = async (remainingRetries: number, delayMs: number): Promise<void> => {
      try {
        await this.invoke(functionNameOrArn, payload);
      } catch {
        if (remainingRetries > 0) {
          await sleep(delayMs);
          await attempt(remainingRetries - 1, delayMs * 2);
        }
      }
    };
    void attempt(2, 60_000).finally(() => {
      this.asyncInFlight -= 1;
    });
  }

  /** Event invocations accepted and not yet finished (retries included): tests wait for the work events caused. */
  get pendingAsyncInvocations(): number {
    return this.asyncInFlight;
  }

  /** A stream event source mapping: the function gets the stream's records in order, in batches. */
  createEventSourceMapping(config: EventSourceMappingConfig): string {
    const name = config.functionName.split(':').pop() ?? config.functionName;
    if (!this.functions.has(name)) throw new LambdaFunctionError('ResourceNotFoundException', `Function not found: ${config.functionName}`, []);
    // Derived, not drawn: the archive's background work leaves the account's random sequence as it was.
    const uuid = derivedUuid(`${config.eventSourceArn}#${name}`);
    this.mappings.push({
      uuid,
      config: { batchSize: 100, maximumRetryAttempts: -1, bisectBatchOnFunctionError: false, ...config, functionName: name },
      pending: [],
      inFlight: [],
      polling: false,
      invocations: 0,
    });
    return uuid;
  }

  /** A new record on a stream: each mapping that reads the stream picks it up on its next poll. */
  streamRecord(record: StreamEventRecord): void {
    for (const mapping of this.mappings.filter((m) => m.config.eventSourceArn === record.eventSourceARN)) {
      mapping.pending.push(record);
      if (mapping.polling) continue;
      mapping.polling = true;
      this.asyncInFlight += 1;
      // One batch at a time per shard: a record is delivered only after every record before it.
      void (async () => {
        try {
          await sleep(STREAM_POLL_INTERVAL_MS);
          while (mapping.pending.length > 0) {
            mapping.inFlight = mapping.pending.splice(0, mapping.config.batchSize);
            await this.deliverBatch(mapping, mapping.inFlight);
            mapping.inFlight = [];
          }
        } finally {
          mapping.polling = false;
          this.asyncInFlight -= 1;
        }
      })();
    }
  }

  /**
   * Stream records no mapping has finished with (the batch in delivery first): a saved session keeps them,
   * as a stream keeps records for 24 hours, and a restored one delivers them again (at least once).
   */
  undeliveredStreamRecords(): StreamEventRecord[] {
    const seen = new Set<string>();
    return this.mappings
      .flatMap((m) => [...m.inFlight, ...m.pending])
      .filter((r) => {
        const id = `${r.eventSourceARN}#${r.dynamodb.SequenceNumber}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
  }

  private async deliverBatch(mapping: EventSourceMapping, batch: readonly StreamEventRecord[], invokeCount = 0): Promise<void> {
    try {
      mapping.invocations += 1;
      const requestId = derivedUuid(`${mapping.uuid}#${mapping.invocations}`);
      await outsideFunctionInvocations(() => this.invoke(mapping.config.functionName, { Records: batch }, { requestId }));
      return;
    } catch (error) {
      const failure = error as LambdaFunctionError;
      if (mapping.config.bisectBatchOnFunctionError && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.deliverBatch(mapping, batch.slice(0, half), invokeCount + 1);
        await this.deliverBatch(mapping, batch.slice(half), invokeCount + 1);
        return;
      }
      const retries = mapping.config.maximumRetryAttempts;
      if (retries < 0 || invokeCount < retries) {
        await sleep(STREAM_RETRY_DELAY_MS);
        await this.deliverBatch(mapping, batch, invokeCount + 1);
        return;
      }
      const first = batch[0] as StreamEventRecord;
      const last = batch.at(-1) as StreamEventRecord;
      this.streamFailures.push({
        at: Date.now(),
        mappingUuid: mapping.uuid,
        functionArn: this.functions.get(mapping.config.functionName)?.arn ?? mapping.config.functionName,
        condition: 'RetryAttemptsExhausted',
        errorType: failure.errorType ?? failure.name,
        errorMessage: failure.errorMessage ?? failure.message,
        approximateInvokeCount: invokeCount + 1,
        streamArn: mapping.config.eventSourceArn,
        startSequenceNumber: first.dynamodb.SequenceNumber,
        endSequenceNumber: last.dynamodb.SequenceNumber,
        batchSize: batch.length,
      });
    }
  }

  logLines(logGroup?: string): LogLine[] {
    if (logGroup) return this.logs.get(logGroup) ?? [];
    return [...this.logs.values()].flat();
  }

  dispose(): void {
    this.restoreStreams?.();
    this.restoreStreams = undefined;
  }

  private appendLog(logGroup: string, message: string): void {
    let lines = this.logs.get(logGroup);
    if (!lines) this.logs.set(logGroup, (lines = []));
    lines.push({ at: Date.now(), message });
  }

  /** Routes writes made during an invocation to the function's log group, as the Lambda runtime does. */
  private captureOutput(): void {
    if (this.restoreStreams) return;
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((stream) => stream.write.bind(stream));
    streams.forEach((stream, index) => {
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        const logGroup = currentLogGroup.getStore();
        if (logGroup === undefined) return (originals[index] as (...args: unknown[]) => boolean)(chunk, ...rest);
        this.appendLog(
          logGroup,
          typeof chunk === 'string'
            ? chunk.trimEnd()
            : Buffer.from(chunk as Uint8Array)
                .toString('utf8')
                .trimEnd(),
        );
        const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as typeof stream.write;
    });
    this.restoreStreams = () => {
      streams.forEach((stream, index) => {
        stream.write = originals[index] as typeof stream.write;
      });
    };
  }
}
