/**
 * IAM policy evaluation, as the IAM User Guide documents it ("Policy evaluation
 * logic", "IAM JSON policy elements"): an explicit Deny in any applicable
 * policy wins, then an Allow in an identity-based or (same account) resource-
 * based policy, otherwise the request is implicitly denied. Policies are
 * compiled once (wildcards to regular expressions, statements indexed by
 * action) so that evaluating a call costs a few map lookups.
 */
import { type CompiledCondition, compileConditionBlock, type ConditionBlock, type RequestContext } from './condition-operators';
import { splitArn, wildcardPattern } from './wildcards';

export type { RequestContext } from './condition-operators';

export type OneOrMany<T> = T | readonly T[];

export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: OneOrMany<string>;
  readonly NotAction?: OneOrMany<string>;
  readonly Resource?: OneOrMany<string>;
  readonly NotResource?: OneOrMany<string>;
  /** Resource-based policies only: `*`, or `{AWS: ...}` / `{Service: ...}`. */
  readonly Principal?: '*' | Readonly<Record<string, OneOrMany<string>>>;
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocumentJson {
  readonly Version?: string;
  readonly Statement: OneOrMany<PolicyStatementJson>;
}

/** Who makes the request: a role session (`AWS`, its role ARN) or an AWS service principal. */
export interface RequestPrincipal {
  readonly type: 'AWS' | 'Service';
  /** The role ARN, or the service principal (e.g. `events.amazonaws.com`). */
  readonly id: string;
  /** A role session's own ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`): a resource policy may name it. */
  readonly sessionArn?: string;
  /**
   * The caller's account, for a person's session: a resource policy naming the account
   * then allows it (standing in for the identity-based allow its permission set gives).
   */
  readonly account?: string;
}

export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  readonly principal?: RequestPrincipal;
  readonly context?: RequestContext;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

interface CompiledStatement {
  readonly effect: 'Allow' | 'Deny';
  /** Matches the lower-cased action. */
  readonly action: (action: string) => boolean;
  readonly resource: (resource: string) => boolean;
  readonly principal: (principal: RequestPrincipal | undefined) => boolean;
  readonly condition: CompiledCondition;
}

const many = <T>(value: OneOrMany<T> | undefined): readonly T[] => (value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T]);

/** A policy set (one principal's identity policies, or one resource's policy), indexed by action. */
export class CompiledPolicy {
  /** Statements whose Action names the action exactly (lower case). */
  private readonly byAction = new Map<string, CompiledStatement[]>();
  /** Statements with a wildcard in Action, or a NotAction: tested against every action. */
  private readonly general: CompiledStatement[] = [];
  private readonly cache = new Map<string, readonly CompiledStatement[]>();

  constructor(documents: readonly PolicyDocumentJson[]) {
    for (const document of documents) {
      for (const statement of many(document.Statement)) this.add(statement);
    }
  }

  private add(statement: PolicyStatementJson): void {
    const compiled: CompiledStatement = {
      effect: statement.Effect,
      action: compileActionMatcher(statement),
      resource: compileResourceMatcher(statement),
      principal: compilePrincipalMatcher(statement.Principal),
      condition: compileConditionBlock(statement.Condition, statement.Effect),
    };
    const exact = statement.Action !== undefined && many(statement.Action).every((a) => !/[*?]/.test(a));
    if (!exact) {
      this.general.push(compiled);
      return;
    }
    for (const action of new Set(many(statement.Action).map((a) => a.toLowerCase()))) {
      let list = this.byAction.get(action);
      if (!list) this.byAction.set(action, (list = []));
      list.push(compiled);
    }
  }

  private candidates(action: string): readonly CompiledStatement[] {
    let list = this.cache.get(action);
    if (!list) {
      list = [...(this.byAction.get(action) ?? []), ...this.general.filter((s) => s.action(action))];
      this.cache.set(action, list);
    }
    return list;
  }

  /** Whether any statement allows or denies the request: `undefined` when none applies. */
  evaluate(request: AuthorizationRequest): 'Allow' | 'Deny' | undefined {
    let allowed = false;
    for (const statement of this.candidates(request.action.toLowerCase())) {
      if (!statement.resource(request.resource)) continue;
      if (!statement.principal(request.principal)) continue;
      if (!statement.condition(request.context ?? {})) continue;
      if (statement.effect === 'Deny') return 'Deny';
      allowed = true;
    }
    return allowed ? 'Allow' : undefined;
  }
}

/**
 * The decision for one request within one account: identity-based policies of
 * the caller and, where the resource has one, its resource-based policy.
 */
export function decide(request: AuthorizationRequest, identity: CompiledPolicy | undefined, resourcePolicy?: CompiledPolicy): Decision {
  const fromIdentity = identity?.evaluate(request);
  const fromResource = resourcePolicy?.evaluate(request);
  if (fromIdentity === 'Deny' || fromResource === 'Deny') return 'ExplicitDeny';
  if (fromIdentity === 'Allow' || fromResource === 'Allow') return 'Allow';
  return 'ImplicitDeny';
}

function compileActionMatcher(statement: PolicyStatementJson): (action: string) => boolean {
  const patterns = many(statement.Action ?? statement.NotAction).map((a) => wildcardPattern(a.toLowerCase()));
  const matches = (action: string): boolean => patterns.some((p) => p.test(action));
  return statement.Action !== undefined ? matches : (action) => !matches(action);
}

function compileResourceMatcher(statement: PolicyStatementJson): (resource: string) => boolean {
  // A resource-based policy may omit Resource (it is then the resource itself).
  if (statement.Resource === undefined && statement.NotResource === undefined) return () => true;
  const patterns = many(statement.Resource ?? statement.NotResource).map(arnMatcher);
  const matches = (resource: string): boolean => patterns.some((p) => p(resource));
  return statement.Resource !== undefined ? matches : (resource) => !matches(resource);
}

/**
 * Resource ARNs match case-sensitively with `*` and `?`, segment by segment
 * (partition, service, region, account, resource); the resource segment may
 * itself hold colons and slashes.
 */
export function arnMatcher(pattern: string): (arn: string) => boolean {
  if (pattern === '*') return () => true;
  const parts = splitArn(pattern);
  if (!parts) {
    const whole = wildcardPattern(pattern);
    return (arn) => whole.test(arn);
  }
  const segments = parts.map((p) => wildcardPattern(p));
  return (arn) => {
    const actual = splitArn(arn);
    if (!actual) return false;
    for (let i = 0; i < 6; i += 1) if (!(segments[i] as RegExp).test(actual[i] as string)) return false;
    return true;
  };
}

function compilePrincipalMatcher(principal: PolicyStatementJson['Principal']): (p: RequestPrincipal | undefined) => boolean {
  // Identity-based policies have no Principal: the policy's owner is the principal.
  if (principal === undefined) return () => true;
  if (principal === '*') return () => true;
  const allowed = Object.entries(principal).map(([type, ids]) => ({ type, ids: many(ids) }));
  return (p) => {
    if (!p) return false;
    const account = p.account;
    const named = (id: string): boolean =>
      id === '*' || id === p.id || id === p.sessionArn || (account !== undefined && (id === account || id === `arn:aws:iam::${account}:root`));
    return allowed.some(({ type, ids }) => type === p.type && ids.some(named));
  };
}
