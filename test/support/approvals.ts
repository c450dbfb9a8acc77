/**
 * Approvals as the decision functions receive them: a function URL request
 * (AWS_IAM auth) whose caller is a principal ARN. People are named as in the
 * sandbox: an SSO session of their permission set's role.
 */
import { approvalDecisionEvent, type ApprovalDecisionBody } from '../../functions/shared/domain/approval-decision';
import { ApprovalRefusedError } from '../../functions/shared/runtime/errors';
import type { FunctionUrlResponse } from '../../functions/shared/runtime/function-url';
import { type HandlerDefinition, type HandlerDeps, parseInput } from '../../functions/shared/runtime/handler';
import { principalFor } from '../../lib/cli/sandbox-session';

export const TEST_ACCOUNT = '111122223333';

/** A person's principal in the test account (`chief-risk-officer` → their SSO session ARN). */
export const principal = (name: string): string => principalFor(name, TEST_ACCOUNT);

/**
 * Decides through the function URL request: resolves with the decision on a 200,
 * rejects with ApprovalRefusedError (the 403's message) on a refusal.
 */
export async function decideViaUrl(
  definition: Pick<HandlerDefinition, 'name' | 'input'> & { core: (input: never, deps: never) => Promise<unknown> },
  approver: string,
  body: ApprovalDecisionBody,
  deps: HandlerDeps,
): Promise<unknown> {
  const input = parseInput(definition, approvalDecisionEvent(approver, body, TEST_ACCOUNT));
  const response = (await (definition.core as (input: unknown, deps: HandlerDeps) => Promise<FunctionUrlResponse>)(input, deps)) as FunctionUrlResponse;
  const answer = JSON.parse(response.body) as { message?: string };
  if (response.statusCode === 403) throw new ApprovalRefusedError(answer.message ?? 'refused');
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
  return answer;
}
