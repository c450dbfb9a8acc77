/** Pages the on-call through the environment's SNS topic. */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { HandlerDeps } from '../runtime/handler';

export async function page(deps: Pick<HandlerDeps<'sns'>, 'clients' | 'config'>, subject: string, message: string): Promise<void> {
  await deps.clients.sns.send(
    new PublishCommand({
      TopicArn: deps.config.pagingTopicArn,
      // SNS subjects: at most 100 characters, no line breaks.
      Subject: `[assure ${deps.config.environment}] ${subject}`.replace(/[\r\n]+/g, ' ').slice(0, 100),
      Message: message,
    }),
  );
}

/** How a page counts the pages its alarm held back: `(3 more times since 09:14 UTC)`, the date added when not today. */
export function heldBackNote(heldBack: { readonly count: number; readonly since: string }, nowMs = Date.now()): string {
  const since = new Date(heldBack.since);
  const sameDay = since.toISOString().slice(0, 10) === new Date(nowMs).toISOString().slice(0, 10);
  const at = `${sameDay ? '' : `${since.toISOString().slice(0, 10)} `}${since.toISOString().slice(11, 16)} UTC`;
  return `(${heldBack.count} more time${heldBack.count === 1 ? '' : 's'} since ${at})`;
}
