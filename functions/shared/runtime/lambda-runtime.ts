/**
 * Builds a handler's dependencies from the Lambda environment, once per cold start.
 * The fleet is bundled beside the handler as fleet.json (see the CDK constructs): the resolved
 * fleet, validated when the stack was synthesized, so a cold start reads it without the schema.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Fleet } from '../../../lib/fleet/fleet';
import { createAwsClients, type ClientClasses, type ClientName } from './clients';
import { configFromEnvironment } from './config';
import { createHandler, type HandlerDefinition, type LambdaHandler } from './handler';
import { fetchHttp } from './http';

export const BUNDLED_FLEET_FILE = 'fleet.json';

export function lambdaHandler<Schema extends z.ZodType, Output, N extends ClientName>(
  definition: HandlerDefinition<Schema, Output, N>,
  clientClasses: ClientClasses<N>,
): LambdaHandler {
  let handler: LambdaHandler | undefined;
  return (event: unknown, context: Context) => {
    if (!handler) {
      const config = configFromEnvironment(process.env);
      const fleet = JSON.parse(readFileSync(new URL(`./${BUNDLED_FLEET_FILE}`, import.meta.url), 'utf8')) as Fleet;
      handler = createHandler(definition, {
        config,
        fleet,
        clients: createAwsClients(clientClasses, { region: config.region }),
        logger: new Logger({ serviceName: 'assure', persistentKeys: { function: definition.name, environment: config.environment } }),
        http: fetchHttp,
      });
    }
    return handler(event, context);
  };
}
