/**
 * One way to refuse a workflow's request. Every workflow's first step parses the
 * raw request with the workflow's schema and checks it against the fleet; a
 * refusal is recorded in the audit trail (who asked, what about, the field and
 * the reason) and thrown as the workflow's named error, whose message reads
 * `Invalid <kind> request: <field>: <reason>`. The state machines' Catch blocks
 * and the CLI match those error names.
 */
import type { z } from 'zod';
import type { FleetService } from '../../../lib/fleet/fleet';
import { fleetService } from '../../../lib/fleet/fleet-queries';
import type { WorkflowName } from '../../../lib/naming';
import {
  type AssureError,
  InvalidDeployRequestError,
  InvalidHaltRequestError,
  InvalidReleaseRequestError,
  InvalidResumeRequestError,
  InvalidRollbackRequestError,
  InvalidRotationRequestError,
  InvalidScaleRequestError,
} from '../runtime/errors';
import { describeIssues, type HandlerDeps } from '../runtime/handler';
import { writeAuditRecord } from './audit';

type ValidationDeps = Pick<HandlerDeps<'dynamodb'>, 'clients' | 'config' | 'fleet'>;

interface WorkflowRequest {
  /** The audit action the workflow records its requests under. */
  readonly action: string;
  /** How messages name the request: `Invalid <kind> request`. */
  readonly kind: string;
  readonly error: new (message: string, options?: ErrorOptions) => AssureError;
}

const WORKFLOW_REQUESTS = {
  deploy: { action: 'deploy', kind: 'deploy', error: InvalidDeployRequestError },
  rollback: { action: 'rollback', kind: 'rollback', error: InvalidRollbackRequestError },
  halt: { action: 'halt', kind: 'halt', error: InvalidHaltRequestError },
  resume: { action: 'resume', kind: 'resume', error: InvalidResumeRequestError },
  'rotate-secret': { action: 'secret.rotate', kind: 'rotation', error: InvalidRotationRequestError },
  scale: { action: 'scale', kind: 'scale', error: InvalidScaleRequestError },
  release: { action: 'release', kind: 'release', error: InvalidReleaseRequestError },
} as const satisfies Record<WorkflowName, WorkflowRequest>;

/** Longest requester the trail keeps: the schemas' limit, which a refused request may not meet. */
const MAX_REQUESTER_LENGTH = 128;

/**
 * Who asked, read from a request that may be malformed: its `requestedBy`
 * (every workflow but halt) or else its `actor` (halt), the first that is a
 * non-empty string, cut to 128 characters; `unknown` when neither is.
 */
export function requesterOf(request: unknown): string {
  if (typeof request !== 'object' || request === null) return 'unknown';
  const { requestedBy, actor } = request as { requestedBy?: unknown; actor?: unknown };
  const named = [requestedBy, actor].find((value): value is string => typeof value === 'string' && value.length > 0);
  return named === undefined ? 'unknown' : named.slice(0, MAX_REQUESTER_LENGTH);
}

export interface Refusal {
  /** The request field at fault; omitted when the refusal is about the state of things, not one field. */
  readonly field?: string;
  readonly reason: string;
  /** What the request is about (a fleet service, `secret:<id>`); `fleet` until the request names a known one. */
  readonly subject?: string;
}

export interface RequestValidation {
  /** The raw request parsed with `schema`; a mismatch is refused against the fleet, naming every field at fault. */
  parse<Schema extends z.ZodType>(schema: Schema): Promise<z.output<Schema>>;
  /** Records the refusal and throws the workflow's named error. */
  refuse(refusal: Refusal): Promise<never>;
  /** The fleet service the request's `service` field names; a name the fleet does not have is refused, listing the known ones. */
  service(serviceId: string): Promise<FleetService>;
}

/** Validation of one execution's raw request for `workflow`. */
export function requestValidation(
  deps: ValidationDeps,
  workflow: WorkflowName,
  { executionId, request }: { readonly executionId: string; readonly request: unknown },
): RequestValidation {
  const { action, kind, error: ErrorClass } = WORKFLOW_REQUESTS[workflow];

  const reject = async (subject: string, message: string, cause?: unknown): Promise<never> => {
    const error = new ErrorClass(`Invalid ${kind} request: ${message}`, cause === undefined ? undefined : { cause });
    await writeAuditRecord(deps, {
      action,
      subject,
      actor: requesterOf(request),
      source: 'step-functions',
      executionId,
      phase: 'outcome',
      status: 'failed',
      at: new Date().toISOString(),
      error: { name: error.name, message: error.message },
    });
    throw error;
  };

  const refuse = ({ field, reason, subject = 'fleet' }: Refusal): Promise<never> => reject(subject, field === undefined ? reason : `${field}: ${reason}`);

  return {
    async parse(schema) {
      const parsed = schema.safeParse(request);
      if (parsed.success) return parsed.data;
      return reject('fleet', describeIssues(parsed.error), parsed.error);
    },
    refuse,
    async service(serviceId) {
      return (
        fleetService(deps.fleet, serviceId) ??
        refuse({
          field: 'service',
          reason: `${serviceId} is not in the ${deps.fleet.environment} fleet (known: ${Object.keys(deps.fleet.services).join(', ')})`,
        })
      );
    },
  };
}
