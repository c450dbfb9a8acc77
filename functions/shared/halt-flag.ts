/**
 * The environment's halt flag: one SSM parameter holding JSON. The halt workflow
 * sets it first; deploys and services read it, so a halt holds even if a call is lost.
 */
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import type { HandlerDeps } from './handler';

export const haltFlagSchema = z.object({
  halted: z.boolean(),
  haltId: z.string().optional(),
  reason: z.string().optional(),
  source: z.string().optional(),
  actor: z.string().optional(),
  at: z.string().optional(),
  services: z.array(z.string()).optional(),
});
export type HaltFlag = z.output<typeof haltFlagSchema>;

export type HaltFlagReading = { readonly readable: true; readonly flag: HaltFlag } | { readonly readable: false; readonly problem: string };

export async function readHaltFlag(deps: Pick<HandlerDeps<'ssm'>, 'clients' | 'config'>): Promise<HaltFlagReading> {
  let value: string | undefined;
  try {
    const result = await deps.clients.ssm.send(new GetParameterCommand({ Name: deps.config.haltParameterName }));
    value = result.Parameter?.Value;
  } catch (error) {
    // Never written: the environment has never been halted.
    if ((error as Error).name === 'ParameterNotFound') return { readable: true, flag: { halted: false } };
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch {
    return { readable: false, problem: `${deps.config.haltParameterName} is not JSON` };
  }
  const parsed = haltFlagSchema.safeParse(json);
  return parsed.success
    ? { readable: true, flag: parsed.data }
    : { readable: false, problem: `${deps.config.haltParameterName} does not hold a halt flag` };
}
