/**
 * The simulated AWS services of one account, wired to each other as AWS wires
 * them: ECS (shifting traffic on the simulated Elastic Load Balancing and
 * invoking lifecycle hook functions as each hook's role), CloudWatch, Secrets Manager and Step Functions emit to the
 * EventBridge bus, the bus delivers to Lambda and Step Functions, Step
 * Functions invokes Lambda and publishes to SNS, DynamoDB table streams feed
 * Lambda event source mappings, and every SDK client call
 * reaches its service through one transport (with fault injection). The
 * fleet's own applications run on the simulated ECS tasks.
 */
import type { AwsClients } from '../../functions/shared/runtime/clients';
import { createAwsClients } from '../../functions/shared/runtime/clients';
import type { HttpClient } from '../../functions/shared/runtime/http';
import type { Fleet } from '../fleet/fleet';
import type { AccountContext } from '../naming';
import { ALL_CLIENT_CLASSES } from './all-clients';
import type { SeededRandom } from './deterministic';
import { FaultInjector } from './fault-injection';
import { SimulatedAwsError } from './aws-error';
import type { ResourceLookups } from './iam/request-resources';
import { SdkTransport } from './sdk-transport';
import { SimulatedApplications } from './simulated-applications';
import { SimulatedCloudWatch } from './simulated-cloudwatch';
import { SimulatedCredentialApi } from './simulated-credential-api';
import { SimulatedDynamoDb } from './simulated-dynamodb';
import { SimulatedEcr } from './simulated-ecr';
import { SimulatedEcs } from './simulated-ecs';
import { SimulatedElbv2 } from './simulated-elbv2';
import { type EventDeliveryOptions, SimulatedEventBridge } from './simulated-eventbridge';
import { SimulatedKms } from './simulated-kms';
import { outsideFunctionInvocations, SimulatedLambda } from './simulated-lambda';
import { SimulatedS3 } from './simulated-s3';
import { SimulatedScheduler } from './simulated-scheduler';
import { SimulatedSecretsManager } from './simulated-secrets-manager';
import { SimulatedSns } from './simulated-sns';
import { SimulatedSsm } from './simulated-ssm';
import { SimulatedStepFunctions } from './simulated-step-functions';
import { ImageCatalogue, ServiceLoad } from './simulated-workloads';
import type { VirtualClock } from './virtual-clock';

export interface SimulatedAccount {
  readonly faults: FaultInjector;
  /** How tasks running each image behave. */
  readonly images: ImageCatalogue;
  /** Each service's CPU demand (scaling scenarios raise it); resting load unless set. */
  readonly load: ServiceLoad;
  /** EventBridge Scheduler: fired on the virtual clock in each schedule's time zone. */
  readonly scheduler: SimulatedScheduler;
  readonly ecs: SimulatedEcs;
  /** The fleet's image repositories; a push emits `ECR Image Action` on the bus. */
  readonly ecr: SimulatedEcr;
  /** Elastic Load Balancing: the target groups and listener rules ECS shifts blue/green, canary and linear traffic on. */
  readonly elbv2: SimulatedElbv2;
  readonly cloudwatch: SimulatedCloudWatch;
  readonly eventBridge: SimulatedEventBridge;
  readonly dynamodb: SimulatedDynamoDb;
  /** Buckets with versioning and Object Lock (the audit archive). */
  readonly s3: SimulatedS3;
  readonly ssm: SimulatedSsm;
  readonly secretsManager: SimulatedSecretsManager;
  /** The downstream systems of `downstream` secrets, reached through `http` at their provider URLs. */
  readonly credentialApi: SimulatedCredentialApi;
  readonly sns: SimulatedSns;
  /** Customer managed keys (the approval tokens' key). */
  readonly kms: SimulatedKms;
  readonly applications: SimulatedApplications;
  readonly lambda: SimulatedLambda;
  readonly stepFunctions: SimulatedStepFunctions;
  readonly transport: SdkTransport;
  /** What IAM needs to know about the resources a request names (secret ARNs, task tokens' state machines). */
  readonly resourceLookups: ResourceLookups;
  /** SDK clients whose every call reaches the simulated services, as the account's operator (no role's policies apply). */
  readonly clients: AwsClients;
  /** HTTP as the account's network answers it: task IPs reach the applications, a credential API's host that API. */
  readonly http: HttpClient;
}

export interface AccountWiring {
  readonly fleet: Fleet;
  readonly context: AccountContext;
  readonly clock: VirtualClock;
  readonly random: SeededRandom;
  /** The SSM parameter the fleet's applications read as their halt flag. */
  readonly haltParameterName: string;
  /** How EventBridge delivers to rule targets (default: once, in order, after 500 ms). */
  readonly eventDelivery?: EventDeliveryOptions;
}

export function simulatedAccount({ fleet, context, clock, random, haltParameterName, eventDelivery }: AccountWiring): SimulatedAccount {
  const shared = { ...context, random };
  const faults = new FaultInjector();
  const images = new ImageCatalogue();
  const lambda = new SimulatedLambda(shared);
  const cloudwatch = new SimulatedCloudWatch(shared);
  const dynamodb = new SimulatedDynamoDb(context);
  const s3 = new SimulatedS3(shared);
  const ssm = new SimulatedSsm(context);
  const sns = new SimulatedSns(shared);
  const kms = new SimulatedKms(context);
  // The services call each other only once events flow, so each closure may name one created further down.
  const iam = () => transport.authorizer;
  // Scheduler calls its target with the schedule's role.
  const scheduler = new SimulatedScheduler((arn, input, scheduleName) => {
    const authorizer = iam();
    if (authorizer) {
      const session = authorizer.scheduleSession(scheduleName) ?? { roleArn: `arn:aws:iam::${context.account}:role/none`, sessionName: scheduleName };
      authorizer.authorizeRole(session, 'sfn', 'states:StartExecution', arn);
    }
    return stepFunctions.startExecution(arn, input);
  });
  const eventBridge = new SimulatedEventBridge(
    shared,
    async (target, input, _event, rule) => {
      // A rule may invoke a function only if the function's resource-based policy lets events.amazonaws.com do it for that rule.
      if (target.arn.startsWith('arn:aws:lambda:') && iam()?.serviceMayInvoke('events.amazonaws.com', target.arn, rule.arn) === false) {
        throw new SimulatedAwsError(
          'AccessDeniedException',
          `EventBridge is not authorized to invoke ${target.arn} for rule ${rule.arn}: the function's resource-based policy does not allow it`,
        );
      }
      if (target.arn.startsWith('arn:aws:lambda:')) lambda.invokeAsync(target.arn, input);
      else if (target.arn.startsWith('arn:aws:states:')) stepFunctions.startExecution(target.arn, JSON.stringify(input));
      else throw new Error(`The sandbox cannot deliver to ${target.arn}`);
    },
    eventDelivery,
  );
  const elbv2 = new SimulatedElbv2();
  const ecs = new SimulatedEcs(
    shared,
    images,
    (detailType, resources, detail) => eventBridge.emit({ source: 'aws.ecs', detailType, resources, detail }),
    (name) => {
      const alarm = cloudwatch.alarm(name);
      return alarm ? { state: alarm.StateValue, evaluationWindowMs: alarm.Period * alarm.EvaluationPeriods * 1000 } : undefined;
    },
    {
      elb: elbv2,
      // ECS invokes a lifecycle hook's function as the hook's role: it must allow lambda:InvokeFunction on it.
      invokeHook: async (hook, payload) => {
        iam()?.authorizeRole({ roleArn: hook.roleArn, sessionName: 'ecs-deployment-lifecycle-hook' }, 'lambda', 'lambda:InvokeFunction', hook.hookTargetArn);
        return outsideFunctionInvocations(() => lambda.invoke(hook.hookTargetArn, payload));
      },
    },
  );
  elbv2.registeredTargets((targetGroupArn) => ecs.targetsIn(targetGroupArn));
  cloudwatch.onStateChange((alarm, previous) => {
    eventBridge.emit(SimulatedCloudWatch.stateChangeEvent(alarm, previous));
    ecs.alarmChanged(alarm.AlarmName, alarm.StateValue);
  });
  const secretsManager = new SimulatedSecretsManager(
    shared,
    async (functionArn, event) => {
      // Secrets Manager invokes a rotation function with the secret's ARN as the source ARN.
      if (iam()?.serviceMayInvoke('secretsmanager.amazonaws.com', functionArn, event.SecretId) === false) {
        throw new SimulatedAwsError(
          'AccessDeniedException',
          'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
        );
      }
      await lambda.invoke(functionArn, event);
    },
    (detailType, resources, detail) => eventBridge.emit({ source: 'aws.secretsmanager', detailType, resources, detail }),
  );
  const credentialApi = new SimulatedCredentialApi(fleet);
  const applications = new SimulatedApplications({
    fleet,
    images,
    ecs,
    random,
    haltFlag: () => {
      const parameter = ssm.parameter(haltParameterName);
      if (!parameter) return undefined;
      try {
        const flag = JSON.parse(parameter.Value) as { halted?: boolean; haltId?: string; reason?: string };
        return {
          halted: flag.halted === true,
          ...(flag.haltId ? { haltId: flag.haltId } : {}),
          ...(flag.reason ? { reason: flag.reason } : {}),
          modifiedAt: parameter.LastModifiedDate,
        };
      } catch {
        return undefined;
      }
    },
    currentSecret: (id) => {
      const version = secretsManager.versionWithStage(id);
      return version ? { value: version.secretString, versionId: version.versionId } : undefined;
    },
  });
  ecs.onTaskRunning((task) => applications.taskStarted(task));
  // Table streams feed the event source mappings that read them.
  dynamodb.onStreamRecord((record) => lambda.streamRecord(record));
  const stepFunctions = new SimulatedStepFunctions(
    shared,
    {
      // The state machine's role makes these calls; a denial fails the task as Step Functions reports it.
      invokeLambda: (arn, payload, stateMachineArn) => {
        integrationAllowed(stateMachineArn, 'lambda', 'lambda:InvokeFunction', arn, 'Lambda.AWSLambdaException', 'AWSLambda');
        return lambda.invoke(arn, payload);
      },
      publishToTopic: async (topicArn, message, subject, stateMachineArn) => {
        integrationAllowed(stateMachineArn, 'sns', 'sns:Publish', topicArn, 'SNS.AuthorizationErrorException', 'AmazonSNS');
        return sns.publish(topicArn, message, subject);
      },
      // Nested executions: the calls Step Functions makes as the state machine's role (StartExecution, its managed rule).
      authorizeCall: (stateMachineArn, service, operation, input) => {
        const authorizer = iam();
        if (!authorizer) return;
        const session = authorizer.stateMachineSession(stateMachineArn) ?? {
          roleArn: `arn:aws:iam::${context.account}:role/none`,
          sessionName: stateMachineArn,
        };
        try {
          authorizer.authorizeCall(session, service, operation, input, resourceLookups);
        } catch (error) {
          if (!(error instanceof SimulatedAwsError)) throw error;
          throw Object.assign(new Error(`${error.message} (Service: AWSStepFunctions; Status Code: ${error.httpStatusCode}; Error Code: ${error.code})`), {
            name: `StepFunctions.${error.code}`,
          });
        }
      },
    },
    (execution) =>
      eventBridge.emit({
        source: 'aws.states',
        detailType: 'Step Functions Execution Status Change',
        resources: [execution.executionArn],
        detail: {
          executionArn: execution.executionArn,
          stateMachineArn: execution.stateMachineArn,
          name: execution.name,
          status: execution.status,
          startDate: execution.startDate,
          stopDate: execution.stopDate ?? null,
          input: execution.input,
          output: execution.output ?? null,
          ...(execution.error ? { error: execution.error, cause: execution.cause ?? null } : {}),
        },
      }),
  );
  const integrationAllowed = (
    stateMachineArn: string | undefined,
    service: string,
    action: string,
    resource: string,
    errorName: string,
    serviceName: string,
  ): void => {
    const authorizer = iam();
    if (!authorizer || !stateMachineArn) return;
    const session = authorizer.stateMachineSession(stateMachineArn) ?? { roleArn: `arn:aws:iam::${context.account}:role/none`, sessionName: stateMachineArn };
    try {
      authorizer.authorizeRole(session, service, action, resource);
    } catch (error) {
      if (!(error instanceof SimulatedAwsError)) throw error;
      throw Object.assign(new Error(`${error.message} (Service: ${serviceName}; Status Code: ${error.httpStatusCode}; Error Code: ${error.code})`), {
        name: errorName,
      });
    }
  };
  const resourceLookups: ResourceLookups = {
    account: context.account,
    region: context.region,
    secretArn: (id) => secretsManager.secret(id)?.arn,
    rotationFunction: (id) => secretsManager.secret(id)?.rotationLambdaArn,
    tokenStateMachine: (token) => stepFunctions.tokenStateMachine(token),
    kmsKeyArn: (keyId) => kms.keyArn(keyId),
    kmsCiphertextKey: (blob) => kms.ciphertextKeyArn(blob),
  };
  const transport = new SdkTransport(
    { ecs, cloudwatch, dynamodb, ssm, sfn: stepFunctions, eventbridge: eventBridge, secretsmanager: secretsManager, sns, elasticloadbalancing: elbv2, s3, kms },
    clock,
    faults,
  );
  const clients = createAwsClients(ALL_CLIENT_CLASSES, {
    region: context.region,
    credentials: { accessKeyId: 'SANDBOX', secretAccessKey: 'SANDBOX' },
    plugins: [transport.plugin()],
  });
  const http: HttpClient = (request) => (credentialApi.handles(request.url) ? credentialApi.request(request) : applications.request(request));
  return {
    faults,
    images,
    load: new ServiceLoad(),
    scheduler,
    ecs,
    ecr: new SimulatedEcr(shared, fleet, (detailType, resources, detail) => eventBridge.emit({ source: 'aws.ecr', detailType, resources, detail })),
    elbv2,
    cloudwatch,
    eventBridge,
    dynamodb,
    s3,
    ssm,
    secretsManager,
    credentialApi,
    sns,
    kms,
    applications,
    lambda,
    stepFunctions,
    transport,
    resourceLookups,
    clients,
    http,
  };
}
