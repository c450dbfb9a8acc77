/**
 * The environment's halt flag: one SSM parameter holding JSON. The halt workflow
 * sets it first; deploys and services read it, so a halt holds even if a call is lost.
 */
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import type { HandlerDeps } from '../runtime/handler';

export const haltFlagSchema = z.object({
  halted: z.boolean(),
  lastHaltId: z.string().optional(),
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
  return parsed.success ? { readable: true, flag: parsed.data } : { readable: false, problem: `${deps.config.haltParameterName} does not hold a halt flag` };
}

export interface HaltRequest {
  readonly haltId: string;
  readonly reason: string;
  readonly source: string;
  readonly actor: string;
  /** The services halted; all trading services when absent. */
  readonly services?: readonly string[];
}

/**
 * Sets the halt flag: an idempotent set, never a toggle. When trading is already
 * halted the flag is left as it is (the first halt's id stands) and reported;
 * so is a halt id that was already resumed.
 * Fails closed: a flag that cannot be read is overwritten with the new halt.
 */
export async function setHaltFlag(
  deps: Pick<HandlerDeps<'ssm'>, 'clients' | 'config'>,
  request: HaltRequest,
): Promise<{ readonly flag: HaltFlag; readonly alreadyHalted: boolean; readonly alreadyResumed: boolean }> {
  const current = await readHaltFlag(deps);
  if (current.readable && current.flag.halted) return { flag: current.flag, alreadyHalted: true, alreadyResumed: false };
  // A halt id is used once: a redelivered signal of a halt since resumed must not halt trading again.
  if (current.readable && current.flag.lastHaltId === request.haltId) return { flag: current.flag, alreadyHalted: false, alreadyResumed: true };
  const flag: HaltFlag = {
    halted: true,
    haltId: request.haltId,
    reason: request.reason,
    source: request.source,
    actor: request.actor,
    at: new Date().toISOString(),
    ...(request.services ? { services: [...request.services] } : {}),
  };
  await deps.clients.ssm.send(new PutParameterCommand({ Name: deps.config.haltParameterName, Value: JSON.stringify(flag), Type: 'String', Overwrite: true }));
  return { flag, alreadyHalted: false, alreadyResumed: false };
}

/** Clears the flag, but only for the halt that set it (a newer halt stays in force). */
export async function clearHaltFlag(
  deps: Pick<HandlerDeps<'ssm'>, 'clients' | 'config'>,
  haltId: string,
  clearedBy: string,
): Promise<{ readonly cleared: boolean; readonly flag: HaltFlag }> {
  const current = await readHaltFlag(deps);
  if (!current.readable) throw new Error(`The halt flag cannot be read (${current.problem}); it was left as it is`);
  if (!current.flag.halted || current.flag.haltId !== haltId) return { cleared: false, flag: current.flag };
  const flag = { halted: false, lastHaltId: haltId, clearedBy, at: new Date().toISOString() };
  await deps.clients.ssm.send(new PutParameterCommand({ Name: deps.config.haltParameterName, Value: JSON.stringify(flag), Type: 'String', Overwrite: true }));
  return { cleared: true, flag: { halted: false } };
}
