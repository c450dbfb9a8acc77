/**
 * The shape every handler shares: a zod schema for its input, a core
 * `(input, deps) => output` that reaches AWS only through the injected clients
 * (so tests stub them and the sandbox routes them), and a thin middy wrapper
 * that parses the input, sets the execution as the logger's correlation id, and
 * logs failures before re-throwing them (Step Functions must see every error).
 * A workflow's own request is not parsed here: its first step refuses it through
 * functions/shared/domain/request-validation.ts, which records the refusal.
 */
import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Fleet } from '../../../lib/fleet/fleet';
import type { AwsClients, ClientName } from './clients';
import type { AssureConfig } from './config';
import { InvalidInputError } from './errors';
import type { HttpClient } from './http';

export interface HandlerDeps<N extends ClientName = ClientName> {
  readonly clients: Pick<AwsClients, N>;
  readonly config: AssureConfig;
  readonly fleet: Fleet;
  readonly logger: Logger;
  readonly http: HttpClient;
}

export interface HandlerDefinition<Schema extends z.ZodType = z.ZodType, Output = unknown, N extends ClientName = ClientName> {
  /** kebab-case, the folder under functions/ and the Lambda's logical name. */
  readonly name: string;
  readonly description: string;
  /** The AWS clients the core uses; the Lambda bundle carries only these. */
  readonly clients: readonly N[];
  /** The Lambda timeout; 30 s unless the core waits on something (at most 900). */
  readonly timeoutSeconds?: number;
  /** The invocation's shape; a mismatch raises InvalidInputError naming each field at fault. */
  readonly input: Schema;
  readonly core: (input: z.output<Schema>, deps: HandlerDeps<N>) => Promise<Output>;
}

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export function defineHandler<Schema extends z.ZodType, Output, N extends ClientName>(
  definition: HandlerDefinition<Schema, Output, N>,
): HandlerDefinition<Schema, Output, N> {
  return definition;
}

/** Formats zod issues as "field: reason; field: reason" so the message names every field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(input)'}: ${issue.message}`).join('; ');
}

export function parseInput<Schema extends z.ZodType>(definition: Pick<HandlerDefinition<Schema>, 'name' | 'input'>, event: unknown): z.output<Schema> {
  const parsed = definition.input.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(`Invalid input to ${definition.name}: ${describeIssues(parsed.error)}`, { cause: parsed.error });
  }
  return parsed.data;
}

function correlationId(event: unknown): string | undefined {
  if (typeof event === 'object' && event !== null && 'executionId' in event) {
    const value = (event as { executionId: unknown }).executionId;
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

export function createHandler<Schema extends z.ZodType, Output, N extends ClientName>(
  definition: HandlerDefinition<Schema, Output, N>,
  deps: HandlerDeps<N>,
): LambdaHandler {
  const { logger } = deps;
  // No early-timeout response: Step Functions retries a timed-out invocation itself, and the early-timeout timer would outlive a failed invocation.
  return middy<unknown, unknown, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        const id = correlationId(request.event);
        if (id) logger.setCorrelationId(id);
      },
      onError: (request) => {
        const error = request.error;
        if (error) logger.error(`${definition.name} failed`, { error: { name: error.name, message: error.message } });
      },
    })
    .handler(async (event: unknown): Promise<unknown> => definition.core(parseInput(definition, event), deps));
}
