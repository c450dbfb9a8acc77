/**
 * An approver's decision on a release waiting before production traffic, through
 * the function's URL (AWS_IAM auth): the approver is the principal IAM
 * authenticated, matched against the fleet's release approver patterns. The deployment hook reads the
 * decision on its next invocation: approved lets ECS shift production traffic,
 * rejected rolls the deployment back. The requester cannot approve their own
 * release; only the fleet's release approvers may, when it names them. A refusal
 * changes nothing: the release keeps waiting until its deadline.
 */
import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { approvalDecisionRequestSchema, refuseDecision } from '../shared/domain/approval-decision';
import { isAnyOf, principalName, samePrincipal } from '../shared/domain/principals';
import { functionUrlResponse } from '../shared/runtime/function-url';
import { audited } from '../shared/domain/audit';
import { approvalState, readReleaseApproval, type ReleaseApproval } from '../shared/domain/release-approval';
import { approvalKey } from '../shared/domain/resume-plan';
import { ApprovalRefusedError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';

/** The audit subject of an approval: its release, or the service deployed alone. */
const subjectOf = (approval: ReleaseApproval | undefined): string =>
  approval?.releaseId ? `release/${approval.releaseId}` : (approval?.services[0] ?? 'fleet');

export const decideReleaseApproval = defineHandler({
  name: 'decide-release-approval',
  description: "Records an approver's decision on a release waiting before production traffic",
  clients: ['dynamodb'],
  input: approvalDecisionRequestSchema,
  core: async ({ approvalId, approver, decision, comment }, deps) =>
    functionUrlResponse(async () => {
      const approval = await readReleaseApproval(deps, approvalId);
      const action = `release.approval.${decision}`;
      const refuse = (why: string): Promise<never> =>
        refuseDecision(
          deps,
          {
            action,
            subject: subjectOf(approval),
            actor: approver,
            executionId: approval?.deployExecutionId ?? `approval:${approvalId}`,
          },
          why,
        );
      if (!approval) return refuse(`approvalId: no release is waiting for approval ${approvalId}`);
      const state = approvalState(approval, new Date());
      if (state === 'expired') return refuse(`approval ${approvalId} passed its deadline ${approval.deadline}: the release is rolled back`);
      if (state !== 'pending') return refuse(`approval ${approvalId} was already ${state}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`);
      if (samePrincipal(approver, approval.requestedBy)) return refuse(`${approver} asked for this release and cannot approve it: a second person must`);
      if (approval.approvers.length > 0 && !isAnyOf(approval.approvers, approver))
        return refuse(
          `${approver} is not a release approver: ${approval.approvers.map(principalName).join(', ')} may approve (${approval.approvers.join(', ')})`,
        );

      return audited(
        deps,
        {
          action,
          subject: subjectOf(approval),
          actor: approver,
          source: 'cli',
          executionId: approval.deployExecutionId,
          reason: `${decision}${comment ? `: ${comment}` : ''}`,
        },
        async () => {
          const decidedAt = new Date().toISOString();
          const status = decision === 'approve' ? 'approved' : 'rejected';
          try {
            await deps.clients.dynamodb.send(
              new UpdateItemCommand({
                TableName: deps.config.stateTableName,
                Key: marshall({ pk: approvalKey(approvalId) }),
                UpdateExpression: `SET #status = :decided, decidedBy = :approver, decidedAt = :at${comment ? ', #comment = :comment' : ''}`,
                ConditionExpression: '#status = :pending AND #deadline > :at',
                ExpressionAttributeNames: { '#status': 'status', '#deadline': 'deadline', ...(comment ? { '#comment': 'comment' } : {}) },
                ExpressionAttributeValues: marshall({
                  ':decided': status,
                  ':approver': approver,
                  ':at': decidedAt,
                  ':pending': 'pending',
                  ...(comment ? { ':comment': comment } : {}),
                }),
              }),
            );
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException)
              throw new ApprovalRefusedError(`approval ${approvalId} was decided by someone else first, or passed its deadline`, { cause: error });
            throw error;
          }
          return { approvalId, decision, status, decidedAt };
        },
        (result) => ({ decision: result.decision, status: result.status, decidedAt: result.decidedAt }),
      );
    }),
});
