/**
 * What AWS authorizes an SDK call on: for each operation, the resources the
 * request names (as the variables of the Service Authorization Reference's ARN
 * formats, which iam-data supplies), the request's condition keys, and the
 * further actions AWS checks for it (iam:PassRole for the roles a task
 * definition names and for the load-balancer and lifecycle-hook roles a
 * service update names, ecs:TagResource when it is tagged,
 * lambda:InvokeFunction on a rotation function).
 */
import type { RequestContext } from './policy-evaluator';

/** Values for an ARN format's `${...}` variables (Partition, Region and Account are filled in by the authorizer). */
export type ArnVariables = Readonly<Record<string, string>>;

export interface FurtherCheck {
  readonly action: string;
  readonly resources: readonly string[];
  readonly context?: RequestContext;
}

export interface RequestFacts {
  /** By the reference's resource type name (e.g. `service`, `service-deployment`): one entry per resource named. */
  readonly resources: Readonly<Record<string, readonly ArnVariables[]>>;
  readonly context?: RequestContext;
  /** A resource AWS uses where the reference lists none (see `states:SendTaskSuccess`). */
  readonly observedResource?: string;
  /** The service refuses the request before IAM could name its resource (a task token that decodes to nothing). */
  readonly refusedBeforeAuthorization?: boolean;
  readonly further?: readonly FurtherCheck[];
  /** The action AWS authorizes instead of the operation's own (S3's version actions when a request names a version). */
  readonly action?: string;
}

/** What the simulated services know that a request's resources depend on. */
export interface ResourceLookups {
  readonly account: string;
  readonly region: string;
  /** A secret's full ARN (with Secrets Manager's random suffix) from its name or ARN. */
  secretArn(secretId: string): string | undefined;
  /** A secret's rotation function, if it has one. */
  rotationFunction(secretId: string): string | undefined;
  /** The state machine whose execution handed out a task token. */
  tokenStateMachine(taskToken: string): string | undefined;
  /** The key ARN a KMS KeyId (id, ARN, alias) names, if the key exists. */
  kmsKeyArn?(keyId: string): string | undefined;
  /** The key a KMS ciphertext blob was encrypted under. */
  kmsCiphertextKey?(ciphertextBlob: unknown): string | undefined;
}

type Input = Readonly<Record<string, unknown>>;
type Resolver = (input: Input, lookups: ResourceLookups) => RequestFacts;

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(str) : []);
const afterSlash = (value: string): string => value.split('/').pop() ?? value;

/** `cluster` may be a name or an ARN; ECS's default cluster is `default`. */
const clusterName = (input: Input): string => afterSlash(str(input.cluster) || 'default');
const clusterContext = (input: Input, lookups: ResourceLookups): RequestContext => ({
  'ecs:cluster': `arn:aws:ecs:${lookups.region}:${lookups.account}:cluster/${clusterName(input)}`,
});

/** `<prefix>/<cluster>/<service>/<id>` ARNs (service deployments and revisions). */
function serviceChild(arn: string, idVariable: string): { service: ArnVariables; child: ArnVariables } {
  const [, cluster = '', service = '', id = ''] = (arn.split(':').slice(5).join(':') || arn).split('/');
  return { service: { ClusterName: cluster, ServiceName: service }, child: { ClusterName: cluster, ServiceName: service, [idVariable]: id } };
}

const ecsService = (input: Input, service: string): ArnVariables => {
  // A service ARN is `service/<cluster>/<name>`; a bare name belongs to the request's cluster.
  const parts = service.split(':').slice(5).join(':').split('/');
  return parts.length === 3 ? { ClusterName: parts[1] as string, ServiceName: parts[2] as string } : { ClusterName: clusterName(input), ServiceName: service };
};

/** The roles an UpdateService (or CreateService) request hands to ECS. */
function serviceRoles(input: Input): string[] {
  const records = (value: unknown): Record<string, unknown>[] =>
    Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
  const advanced = records(input.loadBalancers).map((lb) => str((lb.advancedConfiguration as Record<string, unknown> | undefined)?.roleArn));
  const configuration = input.deploymentConfiguration as Record<string, unknown> | undefined;
  const hooks = records(configuration?.lifecycleHooks).map((hook) => str(hook.roleArn));
  return [...new Set([...advanced, ...hooks].filter((role) => role !== ''))];
}

const table = (input: Input): RequestFacts => ({ resources: { table: [{ TableName: str(input.TableName) }] } });

const secret = (input: Input, lookups: ResourceLookups): RequestFacts => {
  const id = str(input.SecretId);
  const arn = lookups.secretArn(id);
  // An unknown secret is authorized on its name: a grant scoped to real secrets denies it, as AWS does.
  const name = arn ? (arn.split(':secret:')[1] ?? id) : id.includes(':secret:') ? (id.split(':secret:')[1] ?? id) : id;
  return { resources: { Secret: [{ SecretId: name }] }, context: { 'secretsmanager:SecretId': arn ?? id } };
};

const parameter = (input: Input): RequestFacts => ({ resources: { parameter: [{ ParameterNameWithoutLeadingSlash: str(input.Name).replace(/^\//, '') }] } });

const stateMachine = (arn: string): ArnVariables => ({ StateMachineName: arn.split(':stateMachine:')[1] ?? arn });
const execution = (arn: string): ArnVariables => {
  const [name = '', id = ''] = (arn.split(':execution:')[1] ?? '').split(':');
  return { StateMachineName: name, ExecutionId: id };
};

const taskResponse: Resolver = (input, lookups) => {
  // The reference lists no resource for the task-token actions, yet AWS checks them against the state machine
  // whose execution issued the token (its AccessDeniedException names that state machine).
  const stateMachineArn = lookups.tokenStateMachine(str(input.taskToken));
  return stateMachineArn ? { resources: {}, observedResource: stateMachineArn } : { resources: {}, refusedBeforeAuthorization: true };
};

/** An S3 object, or one version of it (authorized as the `...Version` action). */
const s3Object =
  (versionAction?: string): Resolver =>
  (input) => ({
    resources: { object: [{ BucketName: str(input.Bucket), ObjectName: str(input.Key) }] },
    ...(versionAction && input.VersionId !== undefined ? { action: versionAction } : {}),
  });
const s3Bucket: Resolver = (input) => ({
  resources: { bucket: [{ BucketName: str(input.Bucket) }] },
  ...(input.Prefix !== undefined ? { context: { 's3:prefix': str(input.Prefix) } } : {}),
});
/** KMS authorizes on the key a request names (an alias is resolved to its key); an unknown key is the service's NotFoundException. */
const kmsKey: Resolver = (input, lookups): RequestFacts => {
  const arn = lookups.kmsKeyArn?.(str(input.KeyId));
  if (!arn) return { resources: {}, refusedBeforeAuthorization: true };
  return { resources: { key: [{ KeyId: afterSlash(arn) }] } };
};

/** Decrypt is authorized on the key the ciphertext names (KeyId is optional for symmetric keys). */
const kmsCiphertext: Resolver = (input, lookups): RequestFacts => {
  const arn = lookups.kmsCiphertextKey?.(input.CiphertextBlob);
  if (!arn) return { resources: {}, refusedBeforeAuthorization: true };
  return { resources: { key: [{ KeyId: afterSlash(arn) }] } };
};

/** By `<iam prefix>:<Action>`. */
export const REQUEST_RESOURCES: Readonly<Record<string, Resolver>> = {
  'ecs:DescribeServices': (input, lookups) => ({
    resources: { service: list(input.services).map((s) => ecsService(input, s)) },
    context: clusterContext(input, lookups),
  }),
  'ecs:UpdateService': (input, lookups) => ({
    resources: { service: [ecsService(input, str(input.service))] },
    context: clusterContext(input, lookups),
    // The roles ECS is to assume: the one it shifts load-balancer traffic with, and each lifecycle hook's.
    further: serviceRoles(input).map((role) => ({ action: 'iam:PassRole', resources: [role], context: { 'iam:PassedToService': 'ecs.amazonaws.com' } })),
  }),
  'ecs:ListServiceDeployments': (input, lookups) => ({
    resources: { service: [ecsService(input, str(input.service))] },
    context: clusterContext(input, lookups),
  }),
  'ecs:DescribeServiceDeployments': (input) => {
    const children = list(input.serviceDeploymentArns).map((arn) => serviceChild(arn, 'ServiceDeploymentId'));
    return { resources: { service: children.map((c) => c.service), 'service-deployment': children.map((c) => c.child) } };
  },
  'ecs:StopServiceDeployment': (input) => {
    const { service, child } = serviceChild(str(input.serviceDeploymentArn), 'ServiceDeploymentId');
    return { resources: { service: [service], 'service-deployment': [child] } };
  },
  'ecs:DescribeServiceRevisions': (input) => {
    const children = list(input.serviceRevisionArns).map((arn) => serviceChild(arn, 'ServiceRevisionId'));
    return { resources: { service: children.map((c) => c.service), 'service-revision': children.map((c) => c.child) } };
  },
  'ecs:ListTasks': (input, lookups) => ({
    // ListTasks is authorized on the cluster's container instances, conditioned on ecs:cluster.
    resources: { 'container-instance': [{ ClusterName: clusterName(input), ContainerInstanceId: '*' }] },
    context: clusterContext(input, lookups),
  }),
  'ecs:DescribeTasks': (input, lookups) => ({
    resources: { task: list(input.tasks).map((t) => ({ ClusterName: clusterName(input), TaskId: afterSlash(t) })) },
    context: clusterContext(input, lookups),
  }),
  'ecs:DescribeTaskDefinition': () => ({ resources: {} }),
  'ecs:RegisterTaskDefinition': (input, lookups) => {
    const family = str(input.family);
    const roles = [str(input.taskRoleArn), str(input.executionRoleArn)].filter((r) => r !== '');
    const tags = Array.isArray(input.tags) ? (input.tags as { key?: string }[]) : [];
    const definitions = `arn:aws:ecs:${lookups.region}:${lookups.account}:task-definition/${family}:*`;
    return {
      // The revision is not known before registration: the family's revisions.
      resources: { 'task-definition': [{ TaskDefinitionFamilyName: family, TaskDefinitionRevisionNumber: '*' }] },
      context: tags.length > 0 ? { 'aws:TagKeys': tags.map((t) => t.key ?? '') } : {},
      further: [
        ...roles.map((role) => ({ action: 'iam:PassRole', resources: [role], context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } })),
        ...(tags.length > 0 ? [{ action: 'ecs:TagResource', resources: [definitions], context: { 'ecs:CreateAction': 'RegisterTaskDefinition' } }] : []),
      ],
    };
  },
  // Elastic Load Balancing's Describe actions take no resource-level permissions (the reference lists none).
  'elasticloadbalancing:DescribeRules': () => ({ resources: {} }),
  'elasticloadbalancing:DescribeTargetGroups': () => ({ resources: {} }),
  'elasticloadbalancing:DescribeTargetHealth': () => ({ resources: {} }),
  'dynamodb:GetItem': table,
  'dynamodb:PutItem': table,
  'dynamodb:UpdateItem': table,
  'dynamodb:DeleteItem': table,
  'dynamodb:ConditionCheckItem': table,
  'dynamodb:Query': (input) =>
    input.IndexName ? { resources: { index: [{ TableName: str(input.TableName), IndexName: str(input.IndexName) }] } } : table(input),
  'ssm:GetParameter': parameter,
  'ssm:PutParameter': parameter,
  'sns:Publish': (input) => ({ resources: { topic: [{ TopicName: str(input.TopicArn).split(':').pop() ?? '' }] } }),
  'cloudwatch:DescribeAlarms': (input) => {
    const names = list(input.AlarmNames);
    return { resources: { alarm: (names.length > 0 ? names : ['*']).map((AlarmName) => ({ AlarmName })) } };
  },
  // The Service Authorization Reference lists no resource type for it: the policy must allow "*".
  'cloudwatch:GetMetricStatistics': () => ({ resources: {} }),
  'secretsmanager:DescribeSecret': secret,
  'secretsmanager:GetSecretValue': secret,
  'secretsmanager:PutSecretValue': secret,
  'secretsmanager:UpdateSecretVersionStage': secret,
  'secretsmanager:ListSecretVersionIds': secret,
  'secretsmanager:GetRandomPassword': () => ({ resources: {} }),
  'secretsmanager:RotateSecret': (input, lookups) => {
    const facts = secret(input, lookups);
    const rotation = str(input.RotationLambdaARN) || lookups.rotationFunction(str(input.SecretId));
    // RotateSecret invokes the rotation function with the caller's permissions.
    return { ...facts, further: rotation ? [{ action: 'lambda:InvokeFunction', resources: [rotation] }] : [] };
  },
  'states:StartExecution': (input) => ({ resources: { statemachine: [stateMachine(str(input.stateMachineArn))] } }),
  'states:ListExecutions': (input) => ({ resources: { statemachine: [stateMachine(str(input.stateMachineArn))] } }),
  'states:DescribeExecution': (input) => ({ resources: { execution: [execution(str(input.executionArn))] } }),
  'states:StopExecution': (input) => ({ resources: { execution: [execution(str(input.executionArn))] } }),
  'states:SendTaskSuccess': taskResponse,
  'states:SendTaskFailure': taskResponse,
  'states:SendTaskHeartbeat': taskResponse,
  'kms:Encrypt': kmsKey,
  'kms:GenerateDataKey': kmsKey,
  'kms:Decrypt': kmsCiphertext,
  // Step Functions' managed rule for `.sync` nested executions, on the default event bus.
  'events:PutRule': (input) => ({ resources: { 'rule-on-default-event-bus': [{ RuleName: str(input.Name) }] } }),
  'events:DescribeRule': (input) => ({ resources: { 'rule-on-default-event-bus': [{ RuleName: str(input.Name) }] } }),
  'events:PutTargets': (input) => ({ resources: { 'rule-on-default-event-bus': [{ RuleName: str(input.Rule) }] } }),
  's3:PutObject': s3Object(),
  's3:GetObject': s3Object('s3:GetObjectVersion'),
  's3:DeleteObject': s3Object('s3:DeleteObjectVersion'),
  's3:PutObjectRetention': s3Object(),
  's3:ListBucket': s3Bucket,
  's3:ListBucketVersions': s3Bucket,
};

/** A TransactWriteItems action's element → the API whose IAM action authorizes it. */
const TRANSACT_OPERATIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
};

/**
 * IAM has no TransactWriteItems action: each action of a transaction is
 * authorized as the single-item API it stands for (dynamodb:PutItem, ...,
 * dynamodb:ConditionCheckItem), with `dynamodb:EnclosingOperation` set
 * ("Using IAM with DynamoDB transactions", DynamoDB Developer Guide).
 */
export function transactionRequests(input: Input): { operation: string; input: Input; context: RequestContext }[] {
  const items = Array.isArray(input.TransactItems) ? (input.TransactItems as Record<string, unknown>[]) : [];
  return items.flatMap((item) =>
    Object.entries(item)
      .filter(([kind]) => kind in TRANSACT_OPERATIONS)
      .map(([kind, request]) => ({
        operation: TRANSACT_OPERATIONS[kind] as string,
        input: (request ?? {}) as Input,
        context: { 'dynamodb:EnclosingOperation': 'TransactWriteItems' },
      })),
  );
}
