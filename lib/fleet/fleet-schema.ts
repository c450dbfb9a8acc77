/**
 * The fleet file: one YAML document per environment, validated with zod.
 *
 * It is the single source of truth for the CDK stack, the event patterns, the
 * IAM scoping, the Lambda handlers (bundled as JSON) and the sandbox.
 */
import * as z from 'zod';
import { principalPatternSchema } from '../../functions/shared/domain/principals';

const kebabName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and hyphens, starting with a letter');

/** ECS resource names: letters, digits, hyphens and underscores, up to 255 characters. */
const ecsName = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be 1-255 letters, digits, hyphens or underscores');

/** IAM role names (not ARNs): the stack builds the ARN in the fleet's account. */
const iamRoleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (not an ARN), 1-64 characters');

/** An ECR repository URI without tag or digest, or a public image name. */
const imageRepository = z
  .string()
  .regex(
    /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+$/,
    'must be an image repository such as 123456789012.dkr.ecr.eu-west-2.amazonaws.com/order-gateway (no tag or digest)',
  );

const alarmName = z.string().min(1).max(255);

/** CloudWatch accepts periods of 10, 20 or 30 seconds (high resolution) or multiples of 60. */
const alarmPeriodSeconds = z
  .number()
  .int()
  .refine((p) => p === 10 || p === 20 || p === 30 || (p >= 60 && p % 60 === 0), {
    message: 'must be 10, 20, 30 or a multiple of 60 seconds',
  });

const alarmFields = {
  name: alarmName,
  description: z.string().max(1024).optional(),
  metric: z.strictObject({
    namespace: z.string().min(1).max(255),
    name: z.string().min(1).max(255),
    dimensions: z.record(z.string(), z.string()).default({}),
    statistic: z.enum(['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount']).default('Average'),
    periodSeconds: alarmPeriodSeconds.default(60),
  }),
  threshold: z.number(),
  comparison: z.enum(['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold']),
  evaluationPeriods: z.number().int().min(1).max(100).default(1),
  datapointsToAlarm: z.number().int().min(1).max(100).optional(),
  treatMissingData: z.enum(['breaching', 'notBreaching', 'ignore', 'missing']).default('missing'),
};

const datapointsWithinPeriods = {
  check: (a: { datapointsToAlarm?: number | undefined; evaluationPeriods: number }) =>
    a.datapointsToAlarm === undefined || a.datapointsToAlarm <= a.evaluationPeriods,
  params: { message: 'datapointsToAlarm must not exceed evaluationPeriods', path: ['datapointsToAlarm'] },
};

export const alarmDefinitionSchema = z.strictObject(alarmFields).refine(datapointsWithinPeriods.check, datapointsWithinPeriods.params);

/** A trading-risk alarm: its ALARM halts trading (the whole fleet, or the services it names). */
export const haltAlarmSchema = z
  .strictObject({
    ...alarmFields,
    /** Services to halt; all trading services when absent. */
    services: z.array(z.string()).min(1).optional(),
  })
  .refine(datapointsWithinPeriods.check, datapointsWithinPeriods.params);

const rollingStrategy = z.strictObject({
  type: z.literal('rolling'),
  /** ECS maximumPercent / minimumHealthyPercent. */
  maximumPercent: z.number().int().min(100).max(400).default(200),
  minimumHealthyPercent: z.number().int().min(0).max(100).default(100),
});

// Blue/green, canary and linear are ECS-native strategies: ECS shifts traffic between two
// target groups (the service's trafficShift) and invokes Assure's lifecycle hook at each stage.
const blueGreenStrategy = z.strictObject({
  type: z.literal('blue-green'),
  bakeTimeMinutes: z.number().int().min(0).max(1440).default(10),
});
const canaryStrategy = z.strictObject({
  type: z.literal('canary'),
  canaryPercent: z
    .number()
    .min(0.1)
    .max(100)
    .refine((p) => Math.abs(p * 10 - Math.round(p * 10)) < 1e-9, { message: 'must be in steps of 0.1' })
    .default(5),
  canaryBakeTimeMinutes: z.number().int().min(0).max(1440).default(10),
});
const linearStrategy = z.strictObject({
  type: z.literal('linear'),
  stepPercent: z.number().min(3).max(100),
  stepBakeTimeMinutes: z.number().int().min(0).max(1440).default(6),
});

export const deployStrategySchema = z.discriminatedUnion('type', [rollingStrategy, blueGreenStrategy, canaryStrategy, linearStrategy]);

const targetGroupArn = z
  .string()
  .regex(/^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[\w-]{1,32}\/[0-9a-f]{16}$/, 'must be a target group ARN');
const listenerRuleArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener(-rule)?\/(app|net)\/[\w-]+\/[0-9a-f]{16}\/[0-9a-f]{16}(\/[0-9a-f]{16})?$/,
    'must be an ALB listener rule ARN (or an NLB listener ARN)',
  );

/**
 * The load balancer's advanced configuration ECS needs for blue/green, canary and linear:
 * the revision serving production is behind one target group, the new one behind the other.
 */
export const trafficShiftSchema = z.strictObject({
  /** The target group the service serves production from today (ECS's loadBalancers[].targetGroupArn). */
  targetGroupArn,
  /** The second target group, for the revision being deployed. */
  alternateTargetGroupArn: targetGroupArn,
  /** The listener rule that forwards production traffic to the two target groups with weights. */
  productionListenerRuleArn: listenerRuleArn,
  /** The listener rule that forwards test traffic to the new revision only. */
  testListenerRuleArn: listenerRuleArn,
  /** The container port registered in the target groups. */
  containerPort: z.number().int().min(1).max(65535),
  /** The IAM role ECS assumes to change the listener rules; Assure may pass only this role. */
  roleName: iamRoleName,
});

/** A service metric the canary judge compares between revisions (published per TargetGroup dimension). */
export const judgeMetricSchema = z.strictObject({
  namespace: z.string().min(1).max(255),
  name: z.string().min(1).max(255),
  /** Dimensions besides TargetGroup, which the judge adds for each revision. */
  dimensions: z.record(z.string(), z.string()).default({}),
  statistic: z.enum(['Average', 'Sum', 'Minimum', 'Maximum']).default('Average'),
  /** Which direction means the new revision is worse. */
  failWhen: z.enum(['higher', 'lower']).default('higher'),
});

/** How a service's images reach production. */
export const serviceReleaseSchema = z.strictObject({
  /** push: an image pushed to the service's repository with a matching tag starts a release; manual: only manifests do. */
  trigger: z.enum(['push', 'manual']).default('manual'),
  /** Tags (a regular expression, anchored) that start a release; other tags are recorded and ignored. Default: semantic versions. */
  tags: z.string().min(1).refine(isValidPattern, { message: 'must be a valid regular expression' }).default('^v?\\d+\\.\\d+\\.\\d+$'),
});

/** Fleet-wide release settings: deploy-window waits, parallelism, and the canary judge. */
export const releaseSettingsSchema = z.strictObject({
  /** A push outside the deploy windows waits for the next window, at most this long; beyond it the release is refused. */
  maxWindowWaitHours: z.number().min(0).max(168).default(24),
  /** Services of one wave deployed at the same time. */
  maxParallelDeploys: z.number().int().min(1).max(40).default(4),
  judge: z
    .strictObject({
      /** Period of the per-minute samples the judge compares. */
      periodSeconds: z.union([z.literal(60), z.literal(300)]).default(60),
      /** Samples per revision before any verdict but INCONCLUSIVE. */
      minSamples: z.number().int().min(3).max(60).default(3),
      /** One-sided significance level of the Mann-Whitney U test. */
      alpha: z.number().gt(0).lt(0.5).default(0.05),
      /** A new revision worse than the old by less than this fraction (Kayenta's effect size) still passes. */
      effectSizeMargin: z.number().min(0).max(10).default(0.25),
      /** A new revision failing at most this fraction of its requests more than the old one (median 5xx rate) still passes. */
      errorRateTolerance: z.number().min(0).max(1).default(0.005),
      /**
       * Each production step is watched at least this long before it may pass, judged each time on its latest
       * minSamples whole minutes: a regression that shows within (observeMinutes - minSamples - 1) minutes of the
       * step's start has minSamples bad minutes in the window by then, and fails the step.
       */
      observeMinutes: z.number().int().min(0).max(1440).default(8),
      /** A step judged this long without a PASS or FAIL fails the release: INCONCLUSIVE never promotes. */
      inconclusiveLimitMinutes: z.number().int().min(1).max(1440).default(15),
      /** Seconds ECS waits before invoking the judge again while it collects samples. */
      callBackDelaySeconds: z.number().int().min(5).max(900).default(30),
    })
    .refine((j) => j.inconclusiveLimitMinutes > j.observeMinutes, {
      message: 'must be longer than observeMinutes, or no step could pass',
      path: ['inconclusiveLimitMinutes'],
    })
    .prefault({}),
});

const healthSchema = z.strictObject({
  /** ECS healthCheckGracePeriodSeconds: load-balancer health failures are ignored this long after a task starts. */
  gracePeriodSeconds: z.number().int().min(0).max(2_147_483_647).default(60),
  /** Deep application health endpoint, called on every task of the new revision by the health gate. */
  http: z
    .strictObject({
      path: z.string().regex(/^\/[\w\-./~%]*$/, 'must be an absolute URL path such as /health/deep'),
      port: z.number().int().min(1).max(65535),
      timeoutMs: z.number().int().min(100).max(30_000).default(2_000),
    })
    .optional(),
  /** Target-group health check of the service's load balancer (AWS defaults: 30 s x 5, 300 s deregistration delay). */
  targetGroup: z
    .strictObject({
      intervalSeconds: z.number().int().min(5).max(300).default(30),
      healthyThresholdCount: z.number().int().min(2).max(10).default(5),
      unhealthyThresholdCount: z.number().int().min(2).max(10).default(2),
      deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(300),
    })
    .prefault({}),
});

const capacitySchema = z
  .strictObject({
    desired: z.number().int().min(0).max(5000),
    min: z.number().int().min(0).max(5000),
    max: z.number().int().min(1).max(5000),
  })
  .refine((c) => c.min <= c.desired, { message: 'min must not exceed desired', path: ['min'] })
  .refine((c) => c.desired <= c.max, { message: 'desired must not exceed max', path: ['max'] });

/**
 * One step of a step-scaling policy, as Application Auto Scaling defines it: bounds are
 * relative to the alarm's threshold (metric − threshold), the lower inclusive, the upper
 * exclusive; `adjustment` is a change in task count (negative to scale in).
 */
export const stepAdjustmentSchema = z
  .strictObject({
    lowerBound: z.number().optional(),
    upperBound: z.number().optional(),
    adjustment: z
      .number()
      .int()
      .min(-1000)
      .max(1000)
      .refine((n) => n !== 0, { message: 'must not be 0' }),
  })
  .refine((s) => s.lowerBound === undefined || s.upperBound === undefined || s.lowerBound < s.upperBound, {
    message: 'lowerBound must be below upperBound',
    path: ['upperBound'],
  });

/** An alarm whose ALARM scales the service out or in by the step its breach falls into. */
export const scalingAlarmSchema = z
  .strictObject({
    ...alarmFields,
    direction: z.enum(['scale-out', 'scale-in']),
    steps: z.array(stepAdjustmentSchema).min(1),
  })
  .refine(datapointsWithinPeriods.check, datapointsWithinPeriods.params)
  .refine((a) => a.steps.every((s) => (a.direction === 'scale-out' ? s.adjustment > 0 : s.adjustment < 0)), {
    message: 'scale-out steps add tasks (adjustment > 0), scale-in steps remove them (adjustment < 0)',
    path: ['steps'],
  });

/** Capacity set on a schedule (EventBridge Scheduler), e.g. raise the order gateway before the open. */
export const scheduledCapacitySchema = z.strictObject({
  name: kebabName,
  /** EventBridge Scheduler cron: `cron(minutes hours day-of-month month day-of-week year)`. */
  schedule: z.string().regex(/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/, 'must be an EventBridge Scheduler cron expression such as cron(45 7 ? * MON-FRI *)'),
  timeZone: z.string().refine(isKnownTimeZone, { message: 'must be an IANA time zone such as Europe/London' }).default('UTC'),
  /** The task count to set (still bounded by capacity.min and capacity.max). */
  desired: z.number().int().min(0).max(5000),
});

export const scalingSchema = z.strictObject({
  alarms: z.array(scalingAlarmSchema).default([]),
  /** After a scaling action, further actions in the same direction wait this long. */
  scaleOutCooldownSeconds: z.number().int().min(0).max(86_400).default(120),
  scaleInCooldownSeconds: z.number().int().min(0).max(86_400).default(600),
  /** Whether the service may scale out while trading is halted (scale-in is always allowed). */
  scaleOutWhileHalted: z.boolean().default(false),
  schedule: z.array(scheduledCapacitySchema).default([]),
});

/** How a trading service stops when trading halts. */
export const serviceHaltPolicySchema = z.strictObject({
  /** soft: told to halt through its admin API; hard: also scaled to zero tasks. */
  mode: z.enum(['soft', 'hard']).default('soft'),
  /** Port of the admin API (POST /admin/halt, /admin/resume, GET /admin/status); defaults to 8443 over https, health.http.port over http. */
  adminPort: z.number().int().min(1).max(65535).optional(),
});

export const serviceSchema = z.strictObject({
  /** ECS service name; defaults to the service's key in the fleet file. */
  ecsServiceName: ecsName.optional(),
  /** The container whose image a deploy changes; defaults to the service's key. */
  container: ecsName.optional(),
  imageRepository,
  role: z.enum(['trading', 'support']),
  dependsOn: z.array(kebabName).default([]),
  capacity: capacitySchema,
  strategy: deployStrategySchema.prefault({ type: 'rolling' }),
  /** Blue/green, canary and linear: the two target groups and listener rules ECS shifts traffic between. */
  trafficShift: trafficShiftSchema.optional(),
  /** What starts a release of this service. */
  release: serviceReleaseSchema.prefault({}),
  /** Service metrics the canary judge compares besides the load balancer's 5xx rate and p99 response time. */
  judge: z.strictObject({ metrics: z.array(judgeMetricSchema).default([]) }).prefault({}),
  health: healthSchema.prefault({}),
  /** Alarms that mean "this release is bad: roll this service back". */
  rollbackAlarms: z.array(alarmDefinitionSchema).default([]),
  /** For trading services: how the service stops when trading halts. */
  halt: serviceHaltPolicySchema.optional(),
  /** Alarm-driven step scaling, cooldowns per direction, and scheduled capacity. */
  scaling: scalingSchema.optional(),
  /** Roles the service's task definition uses; the deploy role may pass only these. */
  taskRoleName: iamRoleName.optional(),
  executionRoleName: iamRoleName,
});

const dayOfWeek = z.enum(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN']);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time such as 07:30');

export const deployWindowSchema = z
  .strictObject({
    days: z.array(dayOfWeek).min(1),
    start: clockTime,
    end: clockTime,
    timeZone: z.string().refine(isKnownTimeZone, { message: 'must be an IANA time zone such as Europe/London' }).default('UTC'),
  })
  .refine((w) => w.start < w.end, { message: 'start must be before end (windows do not span midnight)', path: ['end'] });

export const deploySettingsSchema = z.strictObject({
  /** Minutes to watch the rollback alarms after the health gate passes. */
  soakMinutes: z.number().min(0).max(1440).default(10),
  /** Longest wait for ECS to report the rollout's outcome before Assure rolls back. */
  progressDeadlineMinutes: z.number().min(1).max(1440).default(30),
  /** When set, a deploy may only start inside one of these windows. */
  windows: z.array(deployWindowSchema).optional(),
});

/** Where Assure's Lambda functions that call tasks directly (the deep health check) run. */
export const networkSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id such as vpc-0abc12de'),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id')).min(1),
  securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id')).min(1),
});

/**
 * How Assure reaches the trading services' admin API, which carries the bearer token: https,
 * verified against the fleet's own CA bundle (a private CA is the normal case inside a VPC:
 * public CAs issue no certificates for internal names or private IPs), or plain http only
 * where the fleet says so explicitly.
 */
export const adminApiTransportSchema = z
  .strictObject({
    scheme: z.enum(['https', 'http']).default('https'),
    /** The CA certificates (PEM) that issue the admin API's certificates: a file relative to the fleet file, or the PEM itself. */
    caBundle: z.string().min(1).optional(),
    /** The DNS name the admin API's certificates are issued for; tasks are called by IP, so this is what is verified (and sent as SNI). Absent: the certificate must name the task's IP. */
    serverName: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a DNS name such as admin.trading.internal')
      .optional(),
    /** Allows scheme: http (the token in cleartext on the VPC's network). */
    allowPlainHttpInVpc: z.boolean().default(false),
  })
  .superRefine((api, ctx) => {
    if (api.scheme === 'http') {
      if (!api.allowPlainHttpInVpc) {
        ctx.addIssue({
          code: 'custom',
          path: ['scheme'],
          message:
            'http sends the admin bearer token in cleartext: use https with caBundle, or set halt.adminApi.allowPlainHttpInVpc: true to allow plain HTTP inside the VPC',
        });
      }
      for (const field of ['caBundle', 'serverName'] as const) {
        if (api[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is used only with scheme: https' });
      }
    } else if (api.caBundle === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['caBundle'],
        message: 'https needs the CA bundle (a PEM file relative to the fleet file) that issues the admin API certificates',
      });
    }
  });

export const haltSettingsSchema = z.strictObject({
  /** Secrets Manager secret (name) holding the bearer token of the trading services' admin API. */
  adminTokenSecret: z.string().regex(/^[\w/+=.@-]{1,512}$/, 'must be a Secrets Manager secret name'),
  /** How the admin API is called: https verified against caBundle (the default), or http only with allowPlainHttpInVpc. */
  adminApi: adminApiTransportSchema.prefault({}),
  /** How long trading services have to confirm halted with no open orders before they are escalated by name (at most 14 minutes: verification runs inside one 15-minute Lambda invocation). */
  verifyDeadlineSeconds: z.number().int().min(5).max(840).default(60),
  alarms: z.array(haltAlarmSchema).default([]),
});

const secretName = z.string().regex(/^[\w/+=.@-]{1,512}$/, 'must be a Secrets Manager secret name');
const envVariable = z.string().regex(/^[A-Z_][A-Z0-9_]{0,254}$/, 'must be an environment variable name such as ADMIN_API_TOKEN');

const managedSecretFields = {
  /** The secret's name in Secrets Manager. */
  name: secretName,
  /** The environment variable consumers' containers receive it as. */
  variable: envVariable,
  /** Services whose tasks read the secret (at start): they are redeployed after a rotation. */
  consumers: z.array(kebabName).default([]),
  /** Rotation schedule: every N days (Secrets Manager rotation rules). */
  rotationDays: z.number().int().min(1).max(1000).default(30),
};

/** How a new value is generated: a token of `length` characters from `alphabet`. */
const generatedTokenSecret = z.strictObject({
  kind: z.literal('generated-token'),
  ...managedSecretFields,
  length: z.number().int().min(16).max(4096).default(40),
  alphabet: z.enum(['alphanumeric', 'hex', 'base64url']).default('alphanumeric'),
});

/** A symmetric signing key (HMAC): `bytes` random bytes, stored encoded. */
const signingKeySecret = z.strictObject({
  kind: z.literal('signing-key'),
  ...managedSecretFields,
  bytes: z.number().int().min(32).max(512).default(64),
  encoding: z.enum(['base64', 'hex']).default('base64'),
});

/**
 * A credential a downstream system must accept: setSecret installs the new value there,
 * testSecret logs in with it. `http-credential-api` is an HTTP API that takes a new
 * password from a caller authenticated with the current one.
 */
const downstreamSecret = z.strictObject({
  kind: z.literal('downstream'),
  ...managedSecretFields,
  length: z.number().int().min(16).max(4096).default(32),
  alphabet: z.enum(['alphanumeric', 'hex', 'base64url']).default('alphanumeric'),
  provider: z.strictObject({
    type: z.literal('http-credential-api'),
    /** Base URL; the provider calls POST <url>/credentials and GET <url>/session, with the credentials: https only. */
    url: z.url({ protocol: /^https$/, error: 'must be an https URL: the credential API receives passwords' }),
    /** The account whose password rotates. */
    username: z.string().min(1).max(128),
  }),
});

export const managedSecretSchema = z.discriminatedUnion('kind', [generatedTokenSecret, signingKeySecret, downstreamSecret]);

export const guardRailsSchema = z.strictObject({
  /** act: alarms start rollbacks and halts; notify-only: they only page. */
  automation: z.enum(['act', 'notify-only']).default('act'),
  /** Record what automation would have done, without doing it. */
  dryRun: z.boolean().default(false),
  /** Automatic rollbacks per hour across the fleet; past it, page a human instead. */
  maxAutomatedActionsPerHour: z.number().int().min(0).max(1000).default(6),
  /** After an automatic action on a service, further alarms on it only page for this long. */
  serviceCooldownMinutes: z.number().min(0).max(1440).default(15),
  /** Alarm events older than this are not acted on. */
  maxEventAgeSeconds: z.number().int().min(10).max(86_400).default(300),
  /** An alarm returns a settled service to its previous revision only this long after a deploy. */
  rollbackWindowMinutes: z.number().min(0).max(10_080).default(120),
});

export const approvalsSchema = z.strictObject({
  /** A resume not approved in this time is refused. */
  resumeTimeoutMinutes: z.number().min(1).max(1440).default(30),
  /** Who may approve a resume, as IAM principal patterns (anyone but the requester when absent). */
  resumeApprovers: z.array(principalPatternSchema).min(1, 'must name at least one approver (or leave it out)').optional(),
  /** Releases wait before production traffic until a second person approves. */
  release: z
    .strictObject({
      required: z.boolean().default(false),
      /** Who may approve a release, as IAM principal patterns (anyone but the requester when absent). */
      approvers: z.array(principalPatternSchema).min(1, 'must name at least one approver (or leave it out)').optional(),
      /** A release not approved in this time is rolled back. */
      timeoutMinutes: z.number().min(1).max(1440).default(60),
    })
    .prefault({}),
});

export const auditSettingsSchema = z.strictObject({
  /**
   * How long each archived audit record stays locked (S3 Object Lock, compliance mode): nobody, root
   * included, can delete or overwrite it before then. SEC 17a-4 and MiFID II expect at least 5 to 7 years.
   */
  retentionYears: z.number().int().min(1).max(100).default(7),
});

export const fleetSchema = z.strictObject({
  /** Short: it prefixes every resource name (Lambda names stop at 64 characters). */
  environment: kebabName.max(20, 'must be at most 20 characters'),
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-2')
    .optional(),
  cluster: ecsName,
  /** Needed for HTTP health checks: the health gate calls each task's private IP from inside the VPC. */
  network: networkSchema.optional(),
  deploy: deploySettingsSchema.prefault({}),
  /** The kill switch: admin API token, verification deadline, and the alarms that halt trading. */
  halt: haltSettingsSchema.optional(),
  /** Alarms that only page. */
  notifyAlarms: z.array(alarmDefinitionSchema).default([]),
  guardRails: guardRailsSchema.prefault({}),
  approvals: approvalsSchema.prefault({}),
  /** How releases run: deploy-window waits, parallel deploys per wave, the canary judge. */
  release: releaseSettingsSchema.prefault({}),
  /** Secrets Assure rotates, with their consumers. */
  secrets: z.record(kebabName, managedSecretSchema).default({}),
  /** The audit trail's write-once archive. */
  audit: auditSettingsSchema.prefault({}),
  /** Who is paged, and how often one flapping alarm may page. */
  paging: z
    .strictObject({
      /** E-mail addresses subscribed to the paging topic. */
      emails: z.array(z.email()).default([]),
      /**
       * After an alarm pages, its further pages within this many minutes are recorded, not sent;
       * the next page after the window counts them. 0 sends every page.
       */
      flapWindowMinutes: z.number().int().min(0).max(1440).default(15),
    })
    .prefault({}),
  services: z.record(kebabName, serviceSchema).refine((s) => Object.keys(s).length > 0, {
    message: 'must list at least one service',
  }),
});

export type FleetInput = z.input<typeof fleetSchema>;
export type ParsedFleet = z.output<typeof fleetSchema>;
export type AlarmDefinition = z.output<typeof alarmDefinitionSchema>;
export type HaltAlarmDefinition = z.output<typeof haltAlarmSchema>;
export type AdminApiTransportInput = z.output<typeof adminApiTransportSchema>;
export type DeployStrategy = z.output<typeof deployStrategySchema>;
export type ScalingAlarmDefinition = z.output<typeof scalingAlarmSchema>;
export type ScalingPolicy = z.output<typeof scalingSchema>;
export type ManagedSecret = z.output<typeof managedSecretSchema>;
export type DeployWindow = z.output<typeof deployWindowSchema>;
export type TrafficShift = z.output<typeof trafficShiftSchema>;
export type JudgeMetric = z.output<typeof judgeMetricSchema>;
export type ServiceRelease = z.output<typeof serviceReleaseSchema>;
export type ReleaseSettings = z.output<typeof releaseSettingsSchema>;
export type ServiceRole = z.output<typeof serviceSchema>['role'];

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isValidPattern(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
