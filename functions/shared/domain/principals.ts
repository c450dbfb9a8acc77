/**
 * IAM principals as approvals know them. The fleet file names who may approve as
 * principal patterns; the caller of an approval endpoint is the principal ARN IAM
 * authenticated (a role session for SSO users and pipelines, or an IAM user).
 * Names are for people to read; decisions compare principals.
 */
import * as z from 'zod';

/** `arn:aws:sts::<account>:assumed-role/<role>/<session>`: what IAM reports for a role session (SSO users, pipelines). */
const SESSION = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@*-]{1,64})$/;
/** `arn:aws:iam::<account>:role/<path/><role>`: any session of the role. */
const ROLE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
/** `arn:aws:iam::<account>:user/<path/><user>`. */
const USER = /^arn:aws[a-z-]*:iam::(\d{12}):user\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

export type PrincipalPattern =
  | { readonly kind: 'session'; readonly account: string; readonly role: string; readonly session: string; readonly arn: string }
  | { readonly kind: 'role'; readonly account: string; readonly role: string; readonly arn: string }
  | { readonly kind: 'user'; readonly account: string; readonly user: string; readonly arn: string };

/** The pattern an approver entry means, or undefined when it is none of the three forms. */
export function parsePrincipalPattern(arn: string): PrincipalPattern | undefined {
  const session = SESSION.exec(arn);
  if (session) return { kind: 'session', account: session[1] as string, role: session[2] as string, session: session[3] as string, arn };
  const role = ROLE.exec(arn);
  if (role) return { kind: 'role', account: role[1] as string, role: role[2] as string, arn };
  const user = USER.exec(arn);
  if (user && !arn.includes('*')) return { kind: 'user', account: user[1] as string, user: user[2] as string, arn };
  return undefined;
}

const PATTERN_HELP =
  'must be an IAM principal ARN: a role session arn:aws:sts::<account>:assumed-role/<role>/<session> (the session may use *), ' +
  'a role arn:aws:iam::<account>:role/<role> (any of its sessions), or a user arn:aws:iam::<account>:user/<name>';

/** A fleet file's approver entry. */
export const principalPatternSchema = z
  .string()
  .min(1, 'is required')
  .refine((value) => parsePrincipalPattern(value) !== undefined, { message: PATTERN_HELP });

/** A caller as IAM authenticated it: a role session or a user, never a pattern. */
export const principalArnSchema = z
  .string()
  .min(1, 'is required')
  .refine((value) => !value.includes('*') && parsePrincipalPattern(value)?.kind !== 'role', {
    message: 'must be the ARN of an authenticated caller: arn:aws:sts::<account>:assumed-role/<role>/<session> or arn:aws:iam::<account>:user/<name>',
  });

const wildcard = (pattern: string): RegExp => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);

/** Whether the authenticated caller `callerArn` is one the pattern names. */
export function principalMatches(pattern: string, callerArn: string): boolean {
  const wanted = parsePrincipalPattern(pattern);
  const caller = parsePrincipalPattern(callerArn);
  if (!wanted || !caller || wanted.account !== caller.account) return false;
  if (wanted.kind === 'user') return caller.kind === 'user' && caller.arn === wanted.arn;
  if (caller.kind !== 'session') return false;
  // A role ARN names every session of the role (IAM reports sessions without the role's path).
  if (wanted.kind === 'role') return caller.role === wanted.role;
  return caller.role === wanted.role && wildcard(wanted.session).test(caller.session);
}

/** Whether the caller is any of the patterns. */
export const isAnyOf = (patterns: readonly string[], callerArn: string): boolean => patterns.some((p) => principalMatches(p, callerArn));

/**
 * Whether two authenticated callers are the same person: the same session ARN
 * (a role's sessions are distinct people: SSO names each after its user), or the
 * same user. Display names play no part.
 */
export function samePrincipal(a: string, b: string): boolean {
  const left = parsePrincipalPattern(a);
  const right = parsePrincipalPattern(b);
  // A request recorded with a name only (older requests, a bare --requested-by): its caller's name decides, which refuses more, never less.
  if (!left || !right) return principalName(a).toLowerCase() === principalName(b).toLowerCase();
  return left.kind === right.kind && left.arn.toLowerCase() === right.arn.toLowerCase();
}

/** The readable part of a principal ARN: a session's or user's name (`alice`), else the ARN. */
export function principalName(arn: string): string {
  const parsed = parsePrincipalPattern(arn);
  if (!parsed) return arn;
  if (parsed.kind === 'session') return parsed.session;
  if (parsed.kind === 'user') return parsed.user;
  return parsed.role;
}
