/**
 * Synthesizes the example fleet's stack once, before the test workers start,
 * so that they read its IAM policy set from the cache instead of each
 * synthesizing it (seconds of CPU) on a fresh checkout or after a code change.
 */
import { loadPolicySet } from '../../lib/sandbox/iam/policy-cache';
import { SANDBOX_ACCOUNT, SANDBOX_REGION } from '../../lib/sandbox/sandbox';
import { exampleFleet } from './handler-deps';

export default async function warmIamCache(): Promise<void> {
  if (process.env.ASSURE_SANDBOX_IAM === 'off') return;
  const fleet = exampleFleet();
  await loadPolicySet(fleet, { account: fleet.account ?? SANDBOX_ACCOUNT, region: fleet.region ?? SANDBOX_REGION });
}
