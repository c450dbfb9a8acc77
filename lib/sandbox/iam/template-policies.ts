/**
 * The IAM facts of a synthesized CloudFormation template, resolved into the
 * concrete ARNs of one account: every role's identity policies, which role each
 * Lambda function, state machine and schedule runs as, and each function's
 * resource-based policy (the AWS::Lambda::Permission resources CDK adds for
 * EventBridge rules and Secrets Manager rotation). CloudFormation assigns the
 * names CDK leaves open (`<stack>-<logical id>-<suffix>`); here the suffix is
 * dropped, so the names are stable.
 */
import type { AccountContext } from '../../naming';
import type { PolicyDocumentJson, PolicyStatementJson } from './policy-evaluator';

export interface PolicySet {
  readonly account: string;
  readonly region: string;
  /** Identity-based policies by role ARN. */
  readonly roles: Readonly<Record<string, { readonly roleName: string; readonly documents: readonly PolicyDocumentJson[] }>>;
  /** By function name: its execution role and its resource-based policy. */
  readonly functions: Readonly<Record<string, { readonly roleArn: string; readonly resourcePolicy: readonly PolicyStatementJson[] }>>;
  /** By state machine name: the role it runs as. */
  readonly stateMachines: Readonly<Record<string, { readonly roleArn: string }>>;
  /** By schedule name: the role Scheduler assumes to call its target. */
  readonly schedules: Readonly<Record<string, { readonly roleArn: string }>>;
  /** By table ARN: the table's resource-based policy (absent when it has none). */
  readonly tables?: Readonly<Record<string, { readonly resourcePolicy: readonly PolicyStatementJson[] }>>;
  /** Customer managed KMS keys by alias name (`alias/...`): the key's ARN. */
  readonly keys?: Readonly<Record<string, string>>;
  /** Function URLs by function name: their auth type. */
  readonly functionUrls?: Readonly<Record<string, { readonly authType: string }>>;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
}

export class TemplateResolver {
  constructor(
    private readonly template: CfnTemplate,
    private readonly stackName: string,
    private readonly context: AccountContext,
  ) {}

  private resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`The template has no resource ${logicalId}`);
    return resource;
  }

  /** The name CloudFormation gives a resource: its name property, else `<stack>-<logical id>`. */
  physicalName(logicalId: string): string {
    const { Type, Properties = {} } = this.resource(logicalId);
    const property: Record<string, string> = {
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::StepFunctions::StateMachine': 'StateMachineName',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::SSM::Parameter': 'Name',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::DynamoDB::GlobalTable': 'TableName',
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Events::Rule': 'Name',
      'AWS::Scheduler::Schedule': 'Name',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::SecretsManager::Secret': 'Name',
      'AWS::S3::Bucket': 'BucketName',
    };
    const key = property[Type];
    const named = key ? Properties[key] : undefined;
    if (named !== undefined) return this.resolve(named) as string;
    return `${this.stackName}-${logicalId}`.slice(0, 64);
  }

  arnOf(logicalId: string): string {
    const { Type } = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    const { account, region } = this.context;
    const arns: Record<string, string> = {
      'AWS::Lambda::Function': `arn:aws:lambda:${region}:${account}:function:${name}`,
      'AWS::IAM::Role': `arn:aws:iam::${account}:role/${name}`,
      'AWS::StepFunctions::StateMachine': `arn:aws:states:${region}:${account}:stateMachine:${name}`,
      'AWS::SNS::Topic': `arn:aws:sns:${region}:${account}:${name}`,
      'AWS::SSM::Parameter': `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`,
      'AWS::SQS::Queue': `arn:aws:sqs:${region}:${account}:${name}`,
      'AWS::DynamoDB::GlobalTable': `arn:aws:dynamodb:${region}:${account}:table/${name}`,
      'AWS::DynamoDB::Table': `arn:aws:dynamodb:${region}:${account}:table/${name}`,
      'AWS::Events::Rule': `arn:aws:events:${region}:${account}:rule/${name}`,
      'AWS::Scheduler::Schedule': `arn:aws:scheduler:${region}:${account}:schedule/default/${name}`,
      'AWS::Logs::LogGroup': `arn:aws:logs:${region}:${account}:log-group:${name}:*`,
      // Bucket ARNs carry neither region nor account.
      'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
      'AWS::KMS::Key': `arn:aws:kms:${region}:${account}:key/${name}`,
    };
    // An ARN this resolver cannot build matches nothing, so it can only deny.
    return arns[Type] ?? `unresolved:${logicalId}.Arn`;
  }

  /** What `Ref` returns for a resource, per its type's CloudFormation documentation. */
  private ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': this.context.account,
      'AWS::Region': this.context.region,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
    };
    const value = pseudo[logicalId];
    if (value !== undefined) return value;
    const { Type } = this.resource(logicalId);
    if (Type === 'AWS::StepFunctions::StateMachine' || Type === 'AWS::SNS::Topic') return this.arnOf(logicalId);
    if (Type === 'AWS::SQS::Queue') return `https://sqs.${this.context.region}.amazonaws.com/${this.context.account}/${this.physicalName(logicalId)}`;
    return this.physicalName(logicalId);
  }

  /** Fn::Join, Ref and Fn::GetAtt (Arn) resolved; any other value as it is. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const argument = object[key];
      if (key === 'Ref') return this.ref(argument as string);
      if (key === 'Fn::GetAtt') {
        const [logicalId, attribute] = (typeof argument === 'string' ? argument.split('.') : argument) as [string, string];
        if (attribute === 'Arn') return this.arnOf(logicalId);
        // A table's stream ARN ends in a label (its creation time) known only once deployed: any stream of the table.
        if (attribute === 'StreamArn' && /^AWS::DynamoDB::(Global)?Table$/.test(this.resource(logicalId).Type)) return `${this.arnOf(logicalId)}/stream/*`;
        return `unresolved:${logicalId}.${attribute}`;
      }
      if (key === 'Fn::Join') {
        const [separator, parts] = argument as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).map(String).join(separator);
      }
      if (key.startsWith('Fn::')) throw new Error(`The sandbox cannot resolve ${key} in the synthesized template`);
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(object[k])]));
  }

  /** The logical id a `Ref` or `Fn::GetAtt` points at. */
  static target(value: unknown): string | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    const object = value as Record<string, unknown>;
    if (typeof object.Ref === 'string') return object.Ref;
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return getAtt[0] as string;
    if (typeof getAtt === 'string') return getAtt.split('.')[0];
    return undefined;
  }
}

/** The policy set of a synthesized stack, in `context`'s account. */
export function policySetFromTemplate(template: CfnTemplate, stackName: string, context: AccountContext): PolicySet {
  const resolver = new TemplateResolver(template, stackName, context);
  const roles: Record<string, { roleName: string; documents: PolicyDocumentJson[] }> = {};
  const roleOf = (logicalId: string): { roleName: string; documents: PolicyDocumentJson[] } => {
    const arn = resolver.arnOf(logicalId);
    return (roles[arn] ??= { roleName: resolver.physicalName(logicalId), documents: [] });
  };
  const entries = Object.entries(template.Resources);
  for (const [id, resource] of entries) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Role') {
      const role = roleOf(id);
      for (const inline of (props.Policies as { PolicyDocument: unknown }[] | undefined) ?? [])
        role.documents.push(resolver.resolve(inline.PolicyDocument) as PolicyDocumentJson);
    }
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const document = resolver.resolve(props.PolicyDocument) as PolicyDocumentJson;
      for (const role of (props.Roles as unknown[] | undefined) ?? []) {
        const target = TemplateResolver.target(role);
        if (target) roleOf(target).documents.push(document);
      }
    }
  }
  const roleArnOf = (value: unknown): string => resolver.resolve(value) as string;
  const functions: Record<string, { roleArn: string; resourcePolicy: PolicyStatementJson[] }> = {};
  const stateMachines: Record<string, { roleArn: string }> = {};
  const schedules: Record<string, { roleArn: string }> = {};
  for (const [id, resource] of entries) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Function') functions[resolver.physicalName(id)] = { roleArn: roleArnOf(props.Role), resourcePolicy: [] };
    if (resource.Type === 'AWS::StepFunctions::StateMachine') stateMachines[resolver.physicalName(id)] = { roleArn: roleArnOf(props.RoleArn) };
    if (resource.Type === 'AWS::Scheduler::Schedule')
      schedules[resolver.physicalName(id)] = { roleArn: roleArnOf((props.Target as { RoleArn: unknown }).RoleArn) };
  }
  for (const [, resource] of entries) {
    if (resource.Type !== 'AWS::Lambda::Permission') continue;
    const props = resolver.resolve(resource.Properties) as {
      Action: string;
      FunctionName: string;
      Principal: string;
      SourceArn?: string;
      SourceAccount?: string;
      FunctionUrlAuthType?: string;
      InvokedViaFunctionUrl?: boolean;
    };
    const functionName = props.FunctionName.split(':').pop() ?? props.FunctionName;
    const fn = functions[functionName];
    if (!fn) continue;
    const condition: Record<string, Record<string, string>> = {};
    // Lambda writes SourceArn as ArnLike and SourceAccount as StringEquals in the function's policy.
    if (props.SourceArn) condition.ArnLike = { 'AWS:SourceArn': props.SourceArn };
    if (props.SourceAccount) condition.StringEquals = { 'AWS:SourceAccount': props.SourceAccount };
    // Function URL permissions: Lambda writes the auth type as StringEquals and the URL-only invoke as Bool.
    if (props.FunctionUrlAuthType) condition.StringEquals = { ...condition.StringEquals, 'lambda:FunctionUrlAuthType': props.FunctionUrlAuthType };
    if (props.InvokedViaFunctionUrl !== undefined) condition.Bool = { 'lambda:InvokedViaFunctionUrl': String(props.InvokedViaFunctionUrl) };
    const principal: Record<string, string> = props.Principal.endsWith('.amazonaws.com') ? { Service: props.Principal } : { AWS: props.Principal };
    fn.resourcePolicy.push({
      Effect: 'Allow',
      Principal: principal,
      Action: props.Action,
      Resource: `arn:aws:lambda:${context.region}:${context.account}:function:${functionName}`,
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    });
  }
  const keys: Record<string, string> = {};
  const functionUrls: Record<string, { authType: string }> = {};
  for (const [, resource] of entries) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::KMS::Alias') {
      const target = TemplateResolver.target(props.TargetKeyId);
      if (target) keys[resolver.resolve(props.AliasName) as string] = resolver.arnOf(target);
    }
    if (resource.Type === 'AWS::Lambda::Url') {
      const target = resolver.resolve(props.TargetFunctionArn) as string;
      functionUrls[target.split(':').pop() ?? target] = { authType: resolver.resolve(props.AuthType) as string };
    }
  }
  return {
    account: context.account,
    region: context.region,
    roles,
    functions,
    stateMachines,
    schedules,
    keys,
    functionUrls,
    tables: tablePolicies(template, resolver, context),
  };
}

/**
 * DynamoDB tables' resource-based policies: `ResourcePolicy.PolicyDocument` of an
 * AWS::DynamoDB::Table, or of the stack region's replica of an
 * AWS::DynamoDB::GlobalTable (CDK's TableV2). `Resource: "*"` in a table's
 * policy is the table itself.
 */
function tablePolicies(template: CfnTemplate, resolver: TemplateResolver, context: AccountContext): Record<string, { resourcePolicy: PolicyStatementJson[] }> {
  const tables: Record<string, { resourcePolicy: PolicyStatementJson[] }> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    let policy: unknown;
    if (resource.Type === 'AWS::DynamoDB::Table') policy = (props.ResourcePolicy as { PolicyDocument?: unknown } | undefined)?.PolicyDocument;
    if (resource.Type === 'AWS::DynamoDB::GlobalTable') {
      const replicas = (props.Replicas as { Region?: unknown; ResourcePolicy?: { PolicyDocument?: unknown } }[] | undefined) ?? [];
      policy = replicas.find((r) => resolver.resolve(r.Region) === context.region)?.ResourcePolicy?.PolicyDocument;
    }
    if (policy === undefined) continue;
    const document = resolver.resolve(policy) as PolicyDocumentJson;
    tables[resolver.arnOf(id)] = { resourcePolicy: ([] as PolicyStatementJson[]).concat(document.Statement) };
  }
  return tables;
}
