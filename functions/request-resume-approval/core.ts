/**
 * Invoked by the `.waitForTaskToken` approval state: stores the token where an
 * approver's decision finds it, and pages the approvers. The state's timeout
 * means no.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import { page } from '../shared/domain/paging';
import { approvalKey, resumeSchema } from '../shared/domain/resume-plan';

export const requestResumeApproval = defineHandler({
  name: 'request-resume-approval',
  description: 'Stores the approval task token and asks the approvers to decide',
  clients: ['dynamodb', 'sns'],
  input: z.object({ executionId: executionIdSchema, taskToken: z.string().min(1), resume: resumeSchema }),
  core: async ({ executionId, taskToken, resume }, deps) => {
    const expiresAt = Date.now() + resume.approvalTimeoutSeconds * 1000;
    await deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({
          pk: approvalKey(resume.approvalId),
          taskToken,
          executionId,
          haltId: resume.haltId,
          requestedBy: resume.requestedBy,
          reason: resume.reason,
          approvers: resume.approvers ?? [],
          status: 'pending',
          requestedAt: new Date().toISOString(),
          lapsesAt: new Date(expiresAt).toISOString(),
          expiresAt: Math.floor(expiresAt / 1000) + 7 * 86_400,
        }),
      }),
    );
    await page(
      deps,
      `Approve resuming trading? (${resume.haltId})`,
      [
        `${resume.requestedBy} asks to resume trading after halt ${resume.haltId}: ${resume.reason}`,
        `Approvers: ${resume.approvers?.join(', ') ?? 'anyone but the requester'}. The request lapses at ${new Date(expiresAt).toISOString()}.`,
        `Approve: assure approve ${resume.approvalId}    Reject: assure approve ${resume.approvalId} --reject`,
      ].join('\n'),
    );
    return { approvalId: resume.approvalId, lapsesAt: new Date(expiresAt).toISOString() };
  },
});
