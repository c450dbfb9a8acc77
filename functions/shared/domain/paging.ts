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

/** How a page counts the pages its alarm held back since `since` (ISO): `(3 more times since 09:14 UTC)`, with the date when not today. */
export function heldBackNote(count: number, since: string): string {
  const day = since.slice(0, 10) === new Date().toISOString().slice(0, 10) ? '' : `${since.slice(0, 10)} `;
  return `(${count} more time${count === 1 ? '' : 's'} since ${day}${since.slice(11, 16)} UTC)`;
}
