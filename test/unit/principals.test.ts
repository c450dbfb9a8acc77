import { describe, expect, it } from 'vitest';
import { isAnyOf, principalArnSchema, principalMatches, principalPatternSchema, samePrincipal } from '../../functions/shared/domain/principals';

const ALICE = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_TradingOperator_0a1b/alice';
const BOB = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_TradingOperator_0a1b/bob';
const PIPELINE = 'arn:aws:sts::111122223333:assumed-role/release-pipeline/codebuild-42';

describe('principal patterns', () => {
  it('a session ARN names that session only; a * session names any of the role', () => {
    expect(principalMatches(ALICE, ALICE)).toBe(true);
    expect(principalMatches(ALICE, BOB)).toBe(false);
    expect(principalMatches('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_TradingOperator_0a1b/*', BOB)).toBe(true);
    expect(principalMatches('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_RiskOfficer_9f/*', BOB)).toBe(false);
  });

  it('a role ARN (with or without a path) names every session of that role, in its account only', () => {
    expect(principalMatches('arn:aws:iam::111122223333:role/release-pipeline', PIPELINE)).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:role/ci/release-pipeline', PIPELINE)).toBe(true);
    expect(principalMatches('arn:aws:iam::444455556666:role/release-pipeline', PIPELINE.replace('111122223333', '999999999999'))).toBe(false);
  });

  it('a user ARN names that user', () => {
    expect(principalMatches('arn:aws:iam::111122223333:user/carol', 'arn:aws:iam::111122223333:user/carol')).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:user/carol', ALICE)).toBe(false);
    expect(isAnyOf(['arn:aws:iam::111122223333:user/carol', ALICE], ALICE)).toBe(true);
  });

  it('refuses names and malformed ARNs with a message saying what is expected', () => {
    const parsed = principalPatternSchema.safeParse('chief-risk-officer');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('must be an IAM principal ARN');
    expect(principalPatternSchema.safeParse('arn:aws:sts::1234:assumed-role/x/y').success).toBe(false);
    expect(principalPatternSchema.safeParse('arn:aws:iam::111122223333:user/*').success).toBe(false);
  });

  it('a caller is a session or a user, never a pattern', () => {
    expect(principalArnSchema.safeParse(ALICE).success).toBe(true);
    expect(principalArnSchema.safeParse('arn:aws:iam::111122223333:role/release-pipeline').success).toBe(false);
    expect(principalArnSchema.safeParse('arn:aws:sts::111122223333:assumed-role/r/*').success).toBe(false);
  });

  it('the same person is the same principal, whatever name they go by', () => {
    expect(samePrincipal(ALICE, ALICE)).toBe(true);
    expect(samePrincipal(ALICE, BOB)).toBe(false);
    expect(samePrincipal(PIPELINE, 'arn:aws:sts::111122223333:assumed-role/release-pipeline/codebuild-43')).toBe(false);
  });
});
