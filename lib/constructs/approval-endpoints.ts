/**
 * Where approvers decide: each decision function behind a function URL with
 * AWS_IAM auth, so the decision names the principal IAM authenticated, never a
 * name the caller chose. The functions' resource-based policy lets the fleet's
 * approvers (and nobody else's role) call the URL, and invoke the function only
 * through it. The resume's task token is sealed under a customer key that only
 * the request function may encrypt with and only the decision function may
 * decrypt with.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccountPrincipal, ArnPrincipal, type IPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { customerKey } from './customer-key';
import { FunctionUrl, FunctionUrlAuthType, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { approvalTokenKeyAlias } from '../../functions/shared/domain/approval-token';
import { parsePrincipalPattern } from '../../functions/shared/domain/principals';
import type { Fleet } from '../fleet/fleet';

export interface ApprovalEndpointsProps {
  readonly fleet: Fleet;
  /** Starts a resume for the authenticated caller (the requester). */
  readonly requestResume: IFunction;
  /** Stores the resume's task token (encrypts it). */
  readonly requestResumeApproval: IFunction;
  /** Decides a resume (decrypts the token, completes the task). */
  readonly decideResumeApproval: IFunction;
  readonly decideReleaseApproval: IFunction;
}

/**
 * Whom a Lambda permission can name for an approver pattern. A permission has no
 * conditions, so a session pattern with `*` is granted to the account (its
 * callers also need an identity-based allow, as an SSO permission set gives);
 * the decision function matches the exact pattern either way.
 */
export function permissionPrincipal(pattern: string, account: string): IPrincipal {
  const parsed = parsePrincipalPattern(pattern);
  if (!parsed) throw new Error(`${pattern} is not an IAM principal pattern`);
  if (parsed.kind === 'session' && parsed.session.includes('*')) return new AccountPrincipal(parsed.account);
  return parsed.account === account || parsed.kind !== 'session' ? new ArnPrincipal(parsed.arn) : new AccountPrincipal(parsed.account);
}

export class ApprovalEndpoints extends Construct {
  readonly tokenKey: Key;
  readonly resumeRequestUrl: FunctionUrl;
  readonly resumeUrl: FunctionUrl;
  readonly releaseUrl: FunctionUrl;

  constructor(scope: Construct, id: string, props: ApprovalEndpointsProps) {
    super(scope, id);
    const { fleet } = props;
    const account = Stack.of(this).account;
    this.tokenKey = customerKey(this, 'TaskTokenKey', {
      description: 'Encrypts the resume approval task tokens Assure stores; only the decision function decrypts',
      alias: approvalTokenKeyAlias(fleet.environment),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The two actions named, not grantEncrypt's wildcards: nobody else's role can use the key.
    props.requestResumeApproval.addToRolePolicy(new PolicyStatement({ actions: ['kms:Encrypt'], resources: [this.tokenKey.keyArn] }));
    props.decideResumeApproval.addToRolePolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.tokenKey.keyArn] }));

    // Anyone in the account may ask (their identity is what the request records); approvers are checked on the decision.
    this.resumeRequestUrl = this.endpoint('ResumeRequest', props.requestResume, undefined, account);
    this.resumeUrl = this.endpoint('Resume', props.decideResumeApproval, fleet.approvals.resumeApprovers, account);
    this.releaseUrl = this.endpoint('Release', props.decideReleaseApproval, fleet.approvals.release.approvers, account);
    new CfnOutput(Stack.of(this), 'ResumeRequestUrl', { value: this.resumeRequestUrl.url });
    new CfnOutput(Stack.of(this), 'ResumeApprovalUrl', { value: this.resumeUrl.url });
    new CfnOutput(Stack.of(this), 'ReleaseApprovalUrl', { value: this.releaseUrl.url });
  }

  /** The URL, and who may call it: each approver pattern, or the account when the fleet names none. */
  private endpoint(id: string, fn: IFunction, approvers: readonly string[] | undefined, account: string): FunctionUrl {
    const url = new FunctionUrl(this, `${id}Url`, { function: fn, authType: FunctionUrlAuthType.AWS_IAM });
    const principals = approvers && approvers.length > 0 ? approvers.map((a) => permissionPrincipal(a, account)) : [new AccountPrincipal(account)];
    const unique = new Map(principals.map((p) => [JSON.stringify(p.policyFragment.principalJson), p]));
    [...unique.values()].forEach((principal, index) => {
      fn.addPermission(`${id}ApproverUrl${index}`, {
        principal,
        action: 'lambda:InvokeFunctionUrl',
        functionUrlAuthType: FunctionUrlAuthType.AWS_IAM,
      });
      // Since October 2025 a function URL also needs lambda:InvokeFunction: only through the URL.
      fn.addPermission(`${id}ApproverInvoke${index}`, { principal, action: 'lambda:InvokeFunction', invokedViaFunctionUrl: true });
    });
    return url;
  }
}
