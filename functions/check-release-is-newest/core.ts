/**
 * After a release waited for a deploy window: is it still the newest? A push
 * release whose service has been pushed again since (a newer digest recorded
 * in `latest-push#<service>`) is superseded and deploys nothing.
 */
import * as z from 'zod';
import { executionIdSchema } from '../shared/domain/deploy-plan';
import { readLatestPush, requireRelease } from '../shared/domain/release';
import { defineHandler } from '../shared/runtime/handler';

export const checkReleaseIsNewest = defineHandler({
  name: 'check-release-is-newest',
  description: 'Tells whether a newer push of a service has superseded a release that waited for a deploy window',
  clients: ['dynamodb'],
  input: z.object({ executionId: executionIdSchema, releaseId: z.string().min(1) }),
  core: async ({ releaseId }, deps): Promise<{ superseded: boolean; why: string }> => {
    const record = await requireRelease(deps, releaseId);
    if (record.source?.type !== 'push') return { superseded: false, why: 'a manifest release is superseded by nothing' };
    for (const account of Object.values(record.services)) {
      if (account.status !== 'PENDING') continue;
      const latest = await readLatestPush(deps, account.service);
      if (latest && latest.digest !== account.digest) {
        return { superseded: true, why: `${account.service} was pushed again (${latest.tag ?? 'untagged'} ${latest.digest}) at ${latest.pushedAt}` };
      }
    }
    return { superseded: false, why: 'no newer push of its services' };
  },
});
