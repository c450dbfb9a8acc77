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
