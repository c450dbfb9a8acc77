/**
 * Asks to resume trading, through the function's URL (AWS_IAM auth): the
 * requester recorded on the resume is the principal IAM authenticated, not a
 * name the caller chose, so the same principal can never approve it. Starts the
 * resume state machine; only this function's role may (see the README's SCP).
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { defineHandler } from '../shared/runtime/handler';
import { functionUrlRequestSchema, functionUrlResponse } from '../shared/runtime/function-url';

export const requestResume = defineHandler({
  name: 'request-resume',
  description: 'Starts a resume for the principal IAM authenticated through the function URL',
  clients: ['sfn'],
  input: functionUrlRequestSchema(
    z.strictObject({
      reason: z.string().min(1, 'is required').max(500),
      haltId: z.string().min(1).optional(),
      /** The execution's name (the approval id); Step Functions makes one up when absent. */
      name: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1-80 letters, digits, - or _')
        .optional(),
    }),
  ),
  core: async ({ caller, reason, haltId, name }, deps) =>
    functionUrlResponse(async () => {
      const { executionArn } = await deps.clients.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: deps.config.stateMachineArns.resume,
          ...(name === undefined ? {} : { name }),
          input: JSON.stringify({ requestedBy: caller, reason, ...(haltId === undefined ? {} : { haltId }) }),
        }),
      );
      return { executionArn };
    }),
});
