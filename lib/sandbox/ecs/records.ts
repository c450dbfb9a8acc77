/**
 * The simulated ECS's state as plain data (what a snapshot saves) and its
 * timings: the shapes every part of ./ecs/ shares.
 */
import type { SeededRandom } from '../deterministic';

/** Task lifecycle timings (virtual). AWS does not publish these; they are typical Fargate figures. */
export const ECS_TIMINGS = {
  provisioningMs: 5_000,
  /** Image pull and container start: pendingMs plus up to pendingJitterMs, varying per task as real pulls do. */
  pendingMs: 15_000,
  pendingJitterMs: 30_000,
  crashAfterStartMs: 12_000,
  stoppingMs: 2_000,
  relaunchBackoffMs: 15_000,
  /** Longest bake ECS applies after a rollout when deployment alarms are monitored ("less than 5 minutes"). */
  maxAlarmBakeMs: 300_000,
} as const;

export interface TargetGroupConfig {
  readonly targetGroupArn: string;
  readonly containerName: string;
  readonly containerPort: number;
  readonly intervalSeconds: number;
  readonly healthyThresholdCount: number;
  readonly deregistrationDelaySeconds: number;
  /**
   * The target group's health-check path and unhealthy threshold. Without a path the check is the
   * application's liveness (any running image passes it); with one, the image's answer on that path decides.
   */
  readonly healthCheckPath?: string;
  readonly unhealthyThresholdCount?: number;
  /** Blue/green, canary and linear: the second target group and the listener rules ECS shifts traffic with. */
  readonly advancedConfiguration?: AdvancedConfiguration;
}

/** LoadBalancer.advancedConfiguration (ECS API reference, AdvancedConfiguration). */
export interface AdvancedConfiguration {
  readonly alternateTargetGroupArn: string;
  readonly productionListenerRule?: string;
  readonly testListenerRule?: string;
  readonly roleArn?: string;
}

export type DeploymentStrategy = 'ROLLING' | 'BLUE_GREEN' | 'CANARY' | 'LINEAR';

/** The lifecycle stages of a blue/green, canary or linear deployment, in order (DeploymentLifecycleHook). */
export const LIFECYCLE_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** DeploymentLifecycleHook with a Lambda function target. */
export interface LifecycleHookConfig {
  readonly hookTargetArn: string;
  readonly roleArn: string;
  readonly lifecycleStages: readonly LifecycleStage[];
  readonly hookDetails?: unknown;
}

/**
 * A blue/green, canary or linear deployment's progress through its lifecycle stages, kept on the deployment
 * it deploys (`deploying`), or on the deployment a failed one returns to (`rollback`).
 */
export interface ProgressiveState {
  strategy: Exclude<DeploymentStrategy, 'ROLLING'>;
  phase: 'deploying' | 'rollback';
  stage: LifecycleStage;
  /** Within the stage: its action (shift, scale, bake), then its hooks, then any wait after them. */
  part: 'action' | 'hooks' | 'after';
  /** Whether RECONCILE_SERVICE runs its hooks: only when more than one revision was ACTIVE at the start. */
  reconcileService?: boolean;
  /** Same for every invocation of one deployment's hooks. */
  executionId: string;
  hooks: LifecycleHookConfig[];
  /** The revision serving production when the deployment started (blue) and its target group. */
  sourceDeploymentId: string;
  sourceRevisionArn: string;
  sourceTargetGroupArn: string;
  /** The target group of the revision being deployed (green). */
  targetGroupArn: string;
  productionListenerRule?: string;
  testListenerRule?: string;
  /** Green's production weight after each traffic step (the last is 100) and the step being run. */
  steps: number[];
  stepIndex: number;
  stepBakeMs: number;
  bakeMs: number;
  /** Green's share of production traffic now, and whether the test rule forwards to green. */
  productionWeight: number;
  testOnGreen: boolean;
  /** When the current step's traffic shifted (its bake counts from then). */
  shiftedAt?: number;
  waitUntil?: number;
  /** The hook of this stage being run: its index, the hookDetails to send, when to invoke it (again). */
  hookIndex: number;
  hookDetails?: unknown;
  hookAt?: number;
  hookInFlight?: boolean;
  /** rollback: the deployment rolled back from, and the hooks invoked for it still to run. */
  rolledBackDeploymentArn?: string;
  rolledBackRevisionArn?: string;
  rollbackHooks?: { hookTargetArn: string; roleArn: string; hookDetails?: unknown; lifecycleStage: LifecycleStage }[];
}

/** A container health check as the task definition declares it (seconds; ECS's defaults apply when absent). */
export interface ContainerHealthCheck {
  command: string[];
  interval?: number;
  timeout?: number;
  retries?: number;
  startPeriod?: number;
}

export interface ContainerDefinition {
  name: string;
  image: string;
  essential?: boolean;
  portMappings?: { containerPort: number; protocol?: string }[];
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  healthCheck?: ContainerHealthCheck;
  [field: string]: unknown;
}

/** What RegisterTaskDefinition takes (plus any other registrable field). */
export interface TaskDefinitionFields {
  family: string;
  containerDefinitions: ContainerDefinition[];
  taskRoleArn?: string;
  executionRoleArn?: string;
  networkMode: string;
  requiresCompatibilities: string[];
  cpu: string;
  memory: string;
  tags: { key: string; value: string }[];
  [field: string]: unknown;
}

export interface TaskDefinitionRecord extends TaskDefinitionFields {
  taskDefinitionArn: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  registeredAt: number;
}

/** A service deployment as ListServiceDeployments/DescribeServiceDeployments show it (kept after it ends). */
export interface ServiceDeploymentRecord {
  serviceDeploymentArn: string;
  deploymentId: string;
  targetServiceRevisionArn: string;
  status:
    | 'PENDING'
    | 'IN_PROGRESS'
    | 'SUCCESSFUL'
    | 'STOPPED'
    | 'STOP_REQUESTED'
    | 'ROLLBACK_REQUESTED'
    | 'ROLLBACK_IN_PROGRESS'
    | 'ROLLBACK_SUCCESSFUL'
    | 'ROLLBACK_FAILED';
  statusReason?: string;
  createdAt: number;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** Blue/green, canary and linear: the lifecycle stage the deployment is in (or ended in). */
  lifecycleStage?: LifecycleStage;
  rollback?: { reason: string; serviceRevisionArn: string; startedAt: number };
  /** The circuit breaker as the deployment left it (while it runs, DescribeServiceDeployments reads the live deployment). */
  circuitBreaker?: ServiceDeploymentCircuitBreaker;
}

/** DescribeServiceDeployments' view of a deployment's circuit breaker. */
export interface ServiceDeploymentCircuitBreaker {
  status: 'TRIGGERED' | 'MONITORING' | 'MONITORING_COMPLETE' | 'DISABLED';
  failureCount: number;
  threshold: number;
}

export interface ServiceRevisionRecord {
  serviceRevisionArn: string;
  serviceArn: string;
  clusterArn: string;
  taskDefinition: string;
  createdAt: number;
}

export interface DeploymentRecord {
  id: string;
  serviceDeploymentArn: string;
  serviceRevisionArn: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  createdAt: number;
  updatedAt: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  /** The threshold is not stored: it follows the latest desired count (circuitBreakerThreshold). */
  circuitBreaker: { enable: boolean; rollback: boolean; resetOnHealthyTask: boolean; thresholdConfiguration?: { type: string; value: number } };
  alarms: { names: string[]; enable: boolean; rollback: boolean; ignored: boolean; monitoring: boolean };
  bakeEndsAt?: number;
  /** The target group this deployment's tasks register in (the service's first one when absent). */
  targetGroupArn?: string;
  /** Blue/green, canary, linear: where the deployment is in its lifecycle stages. */
  progressive?: ProgressiveState;
}

export interface ServiceRecord {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  taskDefinition: string;
  launchType: 'FARGATE';
  createdAt: number;
  healthCheckGracePeriodSeconds: number;
  deploymentConfiguration: {
    maximumPercent: number;
    minimumHealthyPercent: number;
    deploymentCircuitBreaker: { enable: boolean; rollback: boolean; resetOnHealthyTask?: boolean; thresholdConfiguration?: { type: string; value: number } };
    alarms: { alarmNames: string[]; enable: boolean; rollback: boolean };
    strategy?: DeploymentStrategy;
    bakeTimeInMinutes?: number;
    canaryConfiguration?: { canaryPercent: number; canaryBakeTimeInMinutes: number };
    linearConfiguration?: { stepPercent: number; stepBakeTimeInMinutes: number };
    lifecycleHooks?: LifecycleHookConfig[];
  };
  loadBalancers: TargetGroupConfig[];
  deployments: DeploymentRecord[];
  /** Every service deployment, newest first, as the ListServiceDeployments history keeps them. */
  serviceDeployments: ServiceDeploymentRecord[];
  serviceRevisions: ServiceRevisionRecord[];
  events: { id: string; createdAt: number; message: string }[];
  relaunchNotBefore: number;
}

export type TaskLastStatus = 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'STOPPED';

export interface TaskRecord {
  taskArn: string;
  clusterArn: string;
  serviceArn: string;
  deploymentId: string;
  taskDefinitionArn: string;
  group: string;
  startedBy: string;
  lastStatus: TaskLastStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  createdAt: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  exitCode?: number;
  privateIp: string;
  image: string;
  /** The target group the task registers in (its service's first one when absent). */
  targetGroupArn?: string;
  /** Target health in the service's target group (`unused` without a load balancer). */
  target: 'unused' | 'initial' | 'healthy' | 'unhealthy' | 'draining';
  /** The task's container health (DescribeTasks healthStatus); absent when no essential container declares a check. */
  health?: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  /** When each health check, as scheduled at RUNNING, reaches its verdict, and which verdict. */
  checks?: { targetAt?: number; targetPasses?: boolean; containerAt?: number; containerPasses?: boolean };
  servingSince?: number;
  /** The next scheduled transition of this task (`healthy`: a target turning healthy, from snapshots before `check`). */
  next?: { at: number; action: 'pending' | 'running' | 'crash' | 'check' | 'healthy' | 'stop' | 'stopped' };
}

export interface EcsSnapshot {
  readonly clusters: string[];
  readonly taskDefinitions: TaskDefinitionRecord[];
  readonly services: ServiceRecord[];
  readonly tasks: TaskRecord[];
  readonly ipCounter: number;
  /** The load balancers' listener rules, when ECS shifts traffic on them. */
  readonly loadBalancing?: unknown;
}

export type EcsEventEmitter = (detailType: string, resources: string[], detail: Record<string, unknown>) => void;

/** Stopped tasks stay visible (ListTasks, snapshots) for an hour, as ECS keeps them. */
export const STOPPED_TASK_RETENTION_MS = 3600_000;

/** The account, region and seeded randomness every generated ARN and id comes from. */
export interface EcsContext {
  readonly account: string;
  readonly region: string;
  readonly random: SeededRandom;
}

/** The task id, as ECS's service events name a task. */
export const taskId = (task: TaskRecord): string => task.taskArn.split('/').pop() ?? task.taskArn;
