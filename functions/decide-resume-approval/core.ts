/**
 * An approver's decision on a resume (invoked by the CLI, not by Step Functions).
 * The requester cannot approve their own resume; only the fleet's approvers may,
 * when it names them. A refusal changes nothing: the request keeps waiting for
 * someone who may decide, until it lapses.
 */
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { approvalDecisionRequestSchema } from '../shared/domain/approval-decision';
import { audited, writeAuditRecord } from '../shared/domain/audit';
import { ApprovalRefusedError } from '../shared/runtime/errors';
import { defineHandler } from '../shared/runtime/handler';
import { approvalKey } from '../shared/domain/resume-plan';
import { completeTask } from '../shared/domain/task-callbacks';

export const decideResumeApproval = defineHandler({
  name: 'decide-resume-approval',
  description: "Records an approver's decision on a resume and completes (or fails) the waiting approval",
  clients: ['dynamodb', 'sfn'],
  input: approvalDecisionRequestSchema,
  core: async ({ approvalId, approver, decision, comment }, deps) => {
    const item = (
      await deps.clients.dynamodb.send(
        new GetItemCommand({ TableName: deps.config.stateTableName, Key: marshall({ pk: approvalKey(approvalId) }), ConsistentRead: true }),
      )
    ).Item;
    const approval = item ? unmarshall(item) : undefined;
    const refuse = async (why: string): Promise<never> => {
      await writeAuditRecord(deps, {
        action: 'resume.approve',
        subject: 'fleet',
        actor: approver,
        source: 'cli',
        executionId: String(approval?.executionId ?? `approval:${approvalId}`),
        reason: why,
        phase: 'outcome',
        status: 'failed',
        at: new Date().toISOString(),
        error: { name: 'ApprovalRefusedError', message: why },
      });
      throw new ApprovalRefusedError(why);
    };
    if (!approval) return refuse(`approvalId: no resume is waiting for approval ${approvalId}`);
    if (approval.status !== 'pending') return refuse(`approval ${approvalId} was already ${String(approval.status)}`);
    if (typeof approval.lapsesAt === 'string' && Date.now() >= Date.parse(approval.lapsesAt)) {
      return refuse(`approval ${approvalId} lapsed at ${approval.lapsesAt}: trading stays halted; ask again with a new resume`);
    }
    if (approver === approval.requestedBy) return refuse(`${approver} asked for this resume and cannot approve it: a second person must`);
    const approvers = (approval.approvers as string[] | undefined) ?? [];
    if (approvers.length > 0 && !approvers.includes(approver)) return refuse(`${approver} is not a resume approver (${approvers.join(', ')})`);

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
          String(approval.taskToken),
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
  },
});
