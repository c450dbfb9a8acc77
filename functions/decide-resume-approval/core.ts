/**
 * An approver's decision on a resume, through the function's URL (AWS_IAM auth):
 * the approver is the principal IAM authenticated, matched against the fleet's
 * approver patterns. The requester's principal cannot approve their own resume,
 * whatever name they use. A refusal (HTTP 403 with the reason) changes nothing: the
 * request keeps waiting for someone who may decide, until it lapses. Only this
 * function may decrypt the stored task token and complete the waiting task.
 */
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { approvalDecisionRequestSchema, refuseDecision } from '../shared/domain/approval-decision';
import { openTaskToken } from '../shared/domain/approval-token';
import { isAnyOf, principalName, samePrincipal } from '../shared/domain/principals';
import { functionUrlResponse } from '../shared/runtime/function-url';
import { audited } from '../shared/domain/audit';
import { ApprovalRefusedError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { approvalKey } from '../shared/domain/resume-plan';
import { completeTask } from '../shared/domain/task-callbacks';

export const decideResumeApproval = defineHandler({
  name: 'decide-resume-approval',
  description: "Records an approver's decision on a resume and completes (or fails) the waiting approval",
  clients: ['dynamodb', 'sfn', 'kms'],
  input: approvalDecisionRequestSchema,
  core: async ({ approvalId, approver, decision, comment }, deps) =>
    functionUrlResponse(async () => {
      const item = (
        await deps.clients.dynamodb.send(
          new GetItemCommand({ TableName: deps.config.stateTableName, Key: marshall({ pk: approvalKey(approvalId) }), ConsistentRead: true }),
        )
      ).Item;
      const approval = item ? unmarshall(item) : undefined;
      const refuse = (why: string): Promise<never> =>
        refuseDecision(
          deps,
          {
            action: 'resume.approve',
            subject: 'fleet',
            actor: approver,
            executionId: String(approval?.executionId ?? `approval:${approvalId}`),
          },
          why,
        );
      if (!approval) return refuse(`approvalId: no resume is waiting for approval ${approvalId}`);
      if (approval.status !== 'pending') return refuse(`approval ${approvalId} was already ${String(approval.status)}`);
      if (typeof approval.lapsesAt === 'string' && Date.now() >= Date.parse(approval.lapsesAt)) {
        return refuse(`approval ${approvalId} lapsed at ${approval.lapsesAt}: trading stays halted; ask again with a new resume`);
      }
      if (samePrincipal(approver, String(approval.requestedBy))) return refuse(`${approver} asked for this resume and cannot approve it: a second person must`);
      const approvers = (approval.approvers as string[] | undefined) ?? [];
      if (approvers.length > 0 && !isAnyOf(approvers, approver))
        return refuse(`${approver} is not a resume approver: ${approvers.map(principalName).join(', ')} may approve (${approvers.join(', ')})`);
      if (typeof approval.taskTokenCiphertext !== 'string' || typeof approval.taskTokenHash !== 'string')
        return refuse(`approval ${approvalId} holds no sealed task token: ask again with a new resume`);
      const sealed = { taskTokenCiphertext: approval.taskTokenCiphertext, taskTokenHash: approval.taskTokenHash };

      return audited(
        deps,
        {
          action: 'resume.approve',
          subject: 'fleet',
          actor: approver,
          source: 'cli',
          executionId: String(approval.executionId),
          reason: `${decision}${comment ? `: ${comment}` : ''}`,
        },
        async () => {
          try {
            await deps.clients.dynamodb.send(
              new UpdateItemCommand({
                TableName: deps.config.stateTableName,
                Key: marshall({ pk: approvalKey(approvalId) }),
                UpdateExpression: 'SET #status = :decided, decidedBy = :approver, decidedAt = :at',
                ConditionExpression: '#status = :pending',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: marshall({
                  ':decided': decision === 'approve' ? 'approved' : 'rejected',
                  ':approver': approver,
                  ':at': new Date().toISOString(),
                  ':pending': 'pending',
                }),
              }),
            );
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException)
              throw new ApprovalRefusedError(`approval ${approvalId} was decided by someone else first`, { cause: error });
            throw error;
          }
          const delivery = await completeTask(
            deps,
            await openTaskToken(deps, sealed, approvalId),
            decision === 'approve'
              ? { output: { approvedBy: approver, decidedAt: new Date().toISOString(), comment: comment ?? null } }
              : { error: 'ResumeRejected', cause: `Rejected by ${approver}${comment ? `: ${comment}` : ''}` },
          );
          // The execution stopped waiting (timed out, or was stopped) between the checks and now: nothing was decided.
          if (delivery === 'task-already-closed')
            throw new ApprovalRefusedError(`the resume ${approvalId} is no longer waiting for approval (it timed out or was stopped)`);
          return { approvalId, decision, delivery };
        },
        (result) => ({ decision: result.decision, delivery: result.delivery }),
      );
    }),
});
