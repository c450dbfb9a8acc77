/**
 * Invoked by the `.waitForTaskToken` approval state: stores the token where the
 * decision function finds it (only its hash and its KMS ciphertext: nobody who
 * reads the table can complete the task), and pages the approvers. The state's
 * timeout means no.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { defineHandler } from '../shared/runtime/handler';
import { page } from '../shared/domain/paging';
import { sealTaskToken } from '../shared/domain/approval-token';
import { principalName } from '../shared/domain/principals';
import { approvalKey, resumeSchema } from '../shared/domain/resume-plan';

export const requestResumeApproval = defineHandler({
  name: 'request-resume-approval',
  description: 'Stores the approval task token and asks the approvers to decide',
  clients: ['dynamodb', 'sns', 'kms'],
  input: z.object({ executionId: executionIdSchema, taskToken: z.string().min(1), resume: resumeSchema }),
  core: async ({ executionId, taskToken, resume }, deps) => {
    const expiresAt = Date.now() + resume.approvalTimeoutSeconds * 1000;
    const sealed = await sealTaskToken(deps, taskToken, resume.approvalId);
    await deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({
          pk: approvalKey(resume.approvalId),
          ...sealed,
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
        `${principalName(resume.requestedBy)} asks to resume trading after halt ${resume.haltId}: ${resume.reason}`,
        `Approvers: ${resume.approvers?.map(principalName).join(', ') ?? 'anyone but the requester'}. The request lapses at ${new Date(expiresAt).toISOString()}.`,
        `Approve: assure approve ${resume.approvalId}    Reject: assure approve ${resume.approvalId} --reject`,
      ].join('\n'),
    );
    return { approvalId: resume.approvalId, lapsesAt: new Date(expiresAt).toISOString() };
  },
});
