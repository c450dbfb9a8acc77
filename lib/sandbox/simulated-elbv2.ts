/**
 * Elastic Load Balancing v2 (Application Load Balancers), as far as ECS's
 * blue/green, canary and linear deployments and Assure's judge need it: target
 * groups (DescribeTargetGroups), their registered targets and health
 * (DescribeTargetHealth, answered from the ECS tasks registered in them) and
 * listener rules whose forward action ECS re-weights (DescribeRules).
 *
 * Shapes follow the ELBv2 API reference (Rule, Action, ForwardActionConfig,
 * TargetGroupTuple, TargetGroup, TargetHealthDescription). Listeners watch
 * every change of a rule's weights (`onRuleChange`).
 */
import { SimulatedAwsError } from './aws-error';
import type { EcsLoadBalancing, WeightedTargetGroup } from './ecs/load-balancing';
import type { SimulatedService } from './sdk-transport';

export interface TargetGroupDefinition {
  readonly targetGroupArn: string;
  readonly port: number;
  readonly healthCheckPath?: string;
  readonly healthCheckIntervalSeconds: number;
  readonly healthyThresholdCount: number;
  readonly unhealthyThresholdCount?: number;
  readonly deregistrationDelaySeconds: number;
}

export interface ListenerRuleDefinition {
  readonly ruleArn: string;
  readonly priority: number;
  /** The rule's path patterns (a test rule usually matches a header or a test path). */
  readonly pathPatterns?: readonly string[];
  readonly httpHeader?: { readonly name: string; readonly values: readonly string[] };
  readonly forward: readonly WeightedTargetGroup[];
}

/** A target as ECS registered it: the task's IP and port, and its state in the target group. */
export interface RegisteredTarget {
  readonly id: string;
  readonly port: number;
  readonly state: 'initial' | 'healthy' | 'unhealthy' | 'draining';
}

export interface Elbv2Snapshot {
  readonly targetGroups: TargetGroupDefinition[];
  readonly rules: ListenerRuleDefinition[];
}

export type RuleChangeListener = (ruleArn: string, forward: readonly WeightedTargetGroup[]) => void;

const TARGET_HEALTH_REASONS: Record<RegisteredTarget['state'], { Reason?: string; Description?: string }> = {
  initial: { Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' },
  healthy: {},
  unhealthy: { Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed' },
  draining: { Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' },
};

export class SimulatedElbv2 implements SimulatedService, EcsLoadBalancing {
  private readonly targetGroups = new Map<string, TargetGroupDefinition>();
  private readonly rules = new Map<string, ListenerRuleDefinition>();
  private readonly listeners: RuleChangeListener[] = [];

  /** `targets` lists what is registered in a target group (ECS's tasks). */
  constructor(private targets: (targetGroupArn: string) => RegisteredTarget[] = () => []) {}

  /** Where DescribeTargetHealth finds the registered targets (wired once ECS exists). */
  registeredTargets(targets: (targetGroupArn: string) => RegisteredTarget[]): void {
    this.targets = targets;
  }

  // ---------------------------------------------------------------- seeding and ECS's side

  createTargetGroup(definition: TargetGroupDefinition): void {
    this.targetGroups.set(definition.targetGroupArn, { ...definition });
  }

  createRule(definition: ListenerRuleDefinition): void {
    this.rules.set(definition.ruleArn, structuredClone(definition));
  }

  hasTargetGroup(targetGroupArn: string): boolean {
    return this.targetGroups.has(targetGroupArn);
  }

  hasRule(ruleArn: string): boolean {
    return this.rules.has(ruleArn);
  }

  weights(ruleArn: string): readonly WeightedTargetGroup[] | undefined {
    return this.rules.get(ruleArn)?.forward;
  }

  forward(ruleArn: string, targetGroups: readonly WeightedTargetGroup[]): boolean {
    const rule = this.rules.get(ruleArn);
    if (!rule) return false;
    const next = targetGroups.map((t) => ({ targetGroupArn: t.targetGroupArn, weight: t.weight }));
    const changed = effective(next) !== effective(rule.forward);
    this.rules.set(ruleArn, { ...rule, forward: next });
    // Listeners hear of weight changes only (a target group listed at weight 0 receives nothing, as one not listed).
    if (changed) for (const listener of [...this.listeners]) listener(ruleArn, next);
    return true;
  }

  /** Observes every change of a rule's forward weights. */
  /** Calls `listener` on every change of a rule's weights; returns the unsubscribe. */
  onRuleChange(listener: RuleChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  snapshot(): Elbv2Snapshot {
    return structuredClone({ targetGroups: [...this.targetGroups.values()], rules: [...this.rules.values()] });
  }

  restore(snapshot: unknown): void {
    const data = snapshot as Partial<Elbv2Snapshot> | undefined;
    for (const tg of data?.targetGroups ?? []) this.createTargetGroup(tg);
    for (const rule of data?.rules ?? []) this.createRule(rule);
  }

  // ---------------------------------------------------------------- API

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'DescribeRules':
        return this.describeRules(input);
      case 'DescribeTargetGroups':
        return this.describeTargetGroups(input);
      case 'DescribeTargetHealth':
        return this.describeTargetHealth(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement Elastic Load Balancing ${operation}`);
    }
  }

  private describeRules(input: Record<string, unknown>): object {
    const arns = (input.RuleArns ?? []) as string[];
    const listener = input.ListenerArn as string | undefined;
    if (arns.length === 0 && listener === undefined) throw new SimulatedAwsError('ValidationError', 'Either rule ARNs or a listener ARN must be specified');
    let rules: ListenerRuleDefinition[];
    if (arns.length > 0) {
      rules = arns.map((arn) => {
        const rule = this.rules.get(arn);
        if (!rule) throw new SimulatedAwsError('RuleNotFoundException', `One or more rules not found`);
        return rule;
      });
    } else {
      rules = [...this.rules.values()].filter((r) => listenerOf(r.ruleArn) === listener).sort((a, b) => a.priority - b.priority);
    }
    return { Rules: rules.map((rule) => ruleView(rule)) };
  }

  private describeTargetGroups(input: Record<string, unknown>): object {
    const arns = (input.TargetGroupArns ?? []) as string[];
    const names = (input.Names ?? []) as string[];
    let groups = [...this.targetGroups.values()];
    if (arns.length > 0) {
      groups = arns.map((arn) => {
        const group = this.targetGroups.get(arn);
        if (!group) throw new SimulatedAwsError('TargetGroupNotFoundException', `Target groups '${arn}' not found`);
        return group;
      });
    }
    if (names.length > 0) {
      groups = names.map((name) => {
        const group = groups.find((g) => targetGroupName(g.targetGroupArn) === name);
        if (!group) throw new SimulatedAwsError('TargetGroupNotFoundException', `One or more target groups not found`);
        return group;
      });
    }
    return { TargetGroups: groups.map((group) => this.targetGroupView(group)) };
  }

  private targetGroupView(group: TargetGroupDefinition): object {
    const loadBalancers = new Set(
      [...this.rules.values()].filter((r) => r.forward.some((t) => t.targetGroupArn === group.targetGroupArn)).map((r) => loadBalancerOf(r.ruleArn)),
    );
    return {
      TargetGroupArn: group.targetGroupArn,
      TargetGroupName: targetGroupName(group.targetGroupArn),
      Protocol: 'HTTP',
      Port: group.port,
      VpcId: 'vpc-0sandbox',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: group.healthCheckIntervalSeconds,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: group.healthyThresholdCount,
      UnhealthyThresholdCount: group.unhealthyThresholdCount ?? 2,
      HealthCheckPath: group.healthCheckPath ?? '/',
      Matcher: { HttpCode: '200' },
      LoadBalancerArns: [...loadBalancers].filter((arn): arn is string => arn !== undefined),
      TargetType: 'ip',
      ProtocolVersion: 'HTTP1',
      IpAddressType: 'ipv4',
    };
  }

  private describeTargetHealth(input: Record<string, unknown>): object {
    const arn = String(input.TargetGroupArn ?? '');
    const group = this.targetGroups.get(arn);
    if (!group) throw new SimulatedAwsError('TargetGroupNotFoundException', `Target groups '${arn}' not found`);
    const asked = (input.Targets ?? []) as { Id?: string; Port?: number }[];
    const registered = this.targets(arn);
    const chosen = asked.length === 0 ? registered : registered.filter((t) => asked.some((a) => a.Id === t.id && (a.Port === undefined || a.Port === t.port)));
    const unknown = asked
      .filter((a) => !registered.some((t) => t.id === a.Id))
      .map((a) => ({
        Target: { Id: a.Id, Port: a.Port ?? group.port },
        TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' },
      }));
    return {
      TargetHealthDescriptions: [
        ...chosen.map((t) => ({
          Target: { Id: t.id, Port: t.port, AvailabilityZone: 'eu-west-2a' },
          HealthCheckPort: String(t.port),
          TargetHealth: { State: t.state, ...TARGET_HEALTH_REASONS[t.state] },
        })),
        ...unknown,
      ],
    };
  }
}

/** A forward action's weights, without the target groups at 0, in a comparable form. */
const effective = (forward: readonly WeightedTargetGroup[]): string =>
  JSON.stringify(
    forward
      .filter((t) => t.weight > 0)
      .map((t) => [t.targetGroupArn, t.weight])
      .sort(),
  );

/** `targetgroup/<name>/<id>` → name. */
export const targetGroupName = (arn: string): string => arn.split(':targetgroup/')[1]?.split('/')[0] ?? arn;

/** A listener rule ARN's listener: `listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>` → `listener/app/<lb>/<lb-id>/<listener-id>`. */
export function listenerOf(ruleArn: string): string | undefined {
  const match = /^(arn:[^:]+:elasticloadbalancing:[^:]+:\d+:)listener-rule\/((?:app|net)\/[^/]+\/[^/]+\/[^/]+)\/[^/]+$/.exec(ruleArn);
  return match ? `${match[1]}listener/${match[2]}` : undefined;
}

/** A listener rule ARN's load balancer ARN. */
export function loadBalancerOf(ruleArn: string): string | undefined {
  const match = /^(arn:[^:]+:elasticloadbalancing:[^:]+:\d+:)listener(?:-rule)?\/((?:app|net)\/[^/]+\/[^/]+)\//.exec(ruleArn);
  return match ? `${match[1]}loadbalancer/${match[2]}` : undefined;
}

function ruleView(rule: ListenerRuleDefinition): object {
  const conditions: object[] = [];
  if (rule.pathPatterns) conditions.push({ Field: 'path-pattern', Values: [...rule.pathPatterns], PathPatternConfig: { Values: [...rule.pathPatterns] } });
  if (rule.httpHeader) {
    conditions.push({ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: rule.httpHeader.name, Values: [...rule.httpHeader.values] } });
  }
  const groups = rule.forward.map((t) => ({ TargetGroupArn: t.targetGroupArn, Weight: t.weight }));
  return {
    RuleArn: rule.ruleArn,
    Priority: String(rule.priority),
    Conditions: conditions,
    Actions: [
      {
        Type: 'forward',
        Order: 1,
        ...(groups.length === 1 ? { TargetGroupArn: groups[0]?.TargetGroupArn } : {}),
        ForwardConfig: { TargetGroups: groups, TargetGroupStickinessConfig: { Enabled: false } },
      },
    ],
    IsDefault: false,
  };
}
