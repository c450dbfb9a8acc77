/**
 * EventBridge target for `Step Functions Execution Status Change` of the deploy
 * state machine. A deploy stopped from outside (a halt, a rollback, a person)
 * cannot record its own end: this records it FAILED and frees its lock, so
 * nothing is lost and no lock outlives its holder.
 */
import * as z from 'zod';
import { hasOutcomeRecord, writeAuditRecord } from '../shared/domain/audit';
import { releaseOwnedLock } from '../shared/domain/deploy-lock';
import { deployedServiceOf } from '../shared/domain/executions';
import { defineHandler } from '../shared/runtime/handler';

export const stepFunctionsStatusChangeSchema = z.looseObject({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.looseObject({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    name: z.string(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    input: z.string().nullable().optional(),
    error: z.string().nullable().optional(),
    cause: z.string().nullable().optional(),
  }),
});

export const finalizeInterruptedDeploy = defineHandler({
  name: 'finalize-interrupted-deploy',
  description: 'Records a deploy stopped from outside as FAILED and releases its lock',
  clients: ['dynamodb'],
  input: stepFunctionsStatusChangeSchema,
  core: async ({ detail }, deps) => {
    if (detail.stateMachineArn !== deps.config.stateMachineArns.deploy || !['ABORTED', 'TIMED_OUT', 'FAILED'].includes(detail.status)) {
      return { executionArn: detail.executionArn, action: 'none' };
    }
    // A request rejected before it named a known service changed nothing and was recorded by the validator.
    const service = deployedServiceOf(deps.fleet, detail.input)?.id;
    if (!service) return { executionArn: detail.executionArn, action: 'none' };

    let recorded = false;
    if (!(await hasOutcomeRecord(deps, service, detail.executionArn, 'deploy'))) {
      await writeAuditRecord(deps, {
        action: 'deploy',
        subject: service,
        actor: 'assure',
        source: 'eventbridge',
        executionId: detail.executionArn,
        reason:
          `the deploy execution ended ${detail.status} without recording its outcome${detail.error ? ` (${detail.error}: ${detail.cause ?? ''})` : ''}`.slice(
            0,
            500,
          ),
        phase: 'outcome',
        status: 'failed',
        at: new Date().toISOString(),
        after: {
          status: detail.status === 'ABORTED' ? 'STOPPED' : detail.status,
          message: `${service}: deploy ${detail.status.toLowerCase()}: ${detail.error ?? ''} ${detail.cause ?? ''}`.trim(),
        },
        error: { name: detail.error ?? detail.status, message: (detail.cause ?? '').slice(0, 2000) },
      });
      recorded = true;
    }
    // False when it was not its lock (already released, or taken over by a rollback).
    const lockReleased = await releaseOwnedLock(deps, service, detail.executionArn);
    return { executionArn: detail.executionArn, action: 'finalized', recorded, lockReleased };
  },
});
