/**
 * Approval before production traffic: the deployment hook holds a release at
 * PRE_PRODUCTION_TRAFFIC_SHIFT until a second person approves it. The approval is
 * an `approval#<id>` item of the state table (id = the release id, or the deploy
 * execution's name when a service is deployed alone), written once by the first
 * hook invocation that needs it (every service of a release shares it), decided by
 * DecideReleaseApproval, and read by every later invocation.
 */
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { HandlerDeps } from '../runtime/handler';
import { approvalKey } from './resume-plan';

type ApprovalDeps = Pick<HandlerDeps<'dynamodb'>, 'clients' | 'config'>;

export const releaseApprovalSchema = z.object({
  kind: z.literal('release'),
  approvalId: z.string(),
  requestedBy: z.string(),
  approvers: z.array(z.string()).default([]),
  /** ISO time after which the approval can no longer be given: the hook fails the deployment. */
  deadline: z.string(),
  status: z.enum(['pending', 'approved', 'rejected']),
  services: z.array(z.string()).default([]),
  deployExecutionId: z.string(),
  releaseId: z.string().optional(),
  requestedAt: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  comment: z.string().optional(),
});
export type ReleaseApproval = z.output<typeof releaseApprovalSchema>;

/** The approval id of a deployment: its release, or the deploy execution's name. */
export function releaseApprovalId(details: { readonly releaseId?: string | undefined; readonly deployExecutionId: string }): string {
  return details.releaseId ?? details.deployExecutionId.split(':').pop() ?? details.deployExecutionId;
}

/** The stored approval, or undefined when there is none (or the item is not a release approval). */
export async function readReleaseApproval(deps: ApprovalDeps, approvalId: string): Promise<ReleaseApproval | undefined> {
  const item = (
    await deps.clients.dynamodb.send(
      new GetItemCommand({ TableName: deps.config.stateTableName, Key: marshall({ pk: approvalKey(approvalId) }), ConsistentRead: true }),
    )
  ).Item;
  if (!item) return undefined;
  const parsed = releaseApprovalSchema.safeParse(unmarshall(item));
  return parsed.success ? parsed.data : undefined;
}

/**
 * The release's approval, written now (pending) when none exists yet. `created` is
 * true only for the invocation that wrote it: it pages the approvers, once.
 */
export async function ensureReleaseApproval(
  deps: ApprovalDeps,
  request: Omit<ReleaseApproval, 'kind' | 'status' | 'requestedAt' | 'deadline' | 'decidedBy' | 'decidedAt' | 'comment'> & {
    readonly timeoutMinutes: number;
    readonly now: Date;
  },
): Promise<{ readonly approval: ReleaseApproval; readonly created: boolean }> {
  const existing = await readReleaseApproval(deps, request.approvalId);
  if (existing) return { approval: existing, created: false };
  const deadline = new Date(request.now.getTime() + request.timeoutMinutes * 60_000);
  const approval: ReleaseApproval = {
    kind: 'release',
    approvalId: request.approvalId,
    requestedBy: request.requestedBy,
    approvers: [...request.approvers],
    deadline: deadline.toISOString(),
    status: 'pending',
    services: [...request.services],
    deployExecutionId: request.deployExecutionId,
    ...(request.releaseId === undefined ? {} : { releaseId: request.releaseId }),
    requestedAt: request.now.toISOString(),
  };
  try {
    await deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({ pk: approvalKey(request.approvalId), ...approval, expiresAt: Math.floor(deadline.getTime() / 1000) + 7 * 86_400 }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    // Another service of the same release asked first: theirs is the approval.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const written = await readReleaseApproval(deps, request.approvalId);
    if (!written) throw error;
    return { approval: written, created: false };
  }
  return { approval, created: true };
}

export type ApprovalState = 'approved' | 'rejected' | 'expired' | 'pending';

/** Where the approval stands now: a pending approval past its deadline has expired. */
export function approvalState(approval: ReleaseApproval, now: Date): ApprovalState {
  if (approval.status !== 'pending') return approval.status;
  return now.getTime() >= Date.parse(approval.deadline) ? 'expired' : 'pending';
}
