/**
 * Which revision of a service gets which share of its traffic: for a service
 * with an advanced load-balancer configuration, the weights its production and
 * test listener rules give each revision's target group; otherwise (rolling)
 * each revision's share of the tasks serving in its one target group.
 */
import type { EcsLoadBalancing } from './load-balancing';
import type { DeploymentRecord, ServiceRecord } from './records';
import type { EcsState } from './state';
import type { TaskDefinitions } from './task-definitions';

export interface RevisionTraffic {
  readonly serviceRevisionArn: string;
  readonly taskDefinitionArn: string;
  /** The essential container's image, as registered. */
  readonly image: string;
  readonly targetGroupArn: string;
  /** Percent of production (test) traffic this revision serves. */
  readonly productionWeight: number;
  readonly testWeight: number;
}

/** A service's revisions and their traffic at a moment (virtual epoch milliseconds). */
export interface ServiceTraffic {
  readonly revisions: RevisionTraffic[];
  readonly at: number;
}

/** A service's listener rules when ECS does not know them yet (before its first blue/green, canary or linear deployment). */
export interface ListenerRules {
  readonly productionListenerRule: string;
  readonly testListenerRule?: string;
}

export function serviceTraffic(
  state: EcsState,
  definitions: TaskDefinitions,
  elb: EcsLoadBalancing | undefined,
  service: ServiceRecord,
  rules?: ListenerRules,
): RevisionTraffic[] {
  const lb = service.loadBalancers[0];
  if (!lb) return [];
  const tasks = state.serviceTasks(service);
  const live = (d: DeploymentRecord): boolean => tasks.some((t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED');
  const deployments = service.deployments.filter((d) => d.status !== 'INACTIVE');
  const view = (d: DeploymentRecord, productionWeight: number, testWeight: number): RevisionTraffic => {
    const definition = definitions.byArn(d.taskDefinition);
    const essential = definition?.containerDefinitions.find((c) => c.essential !== false) ?? definition?.containerDefinitions[0];
    return {
      serviceRevisionArn: d.serviceRevisionArn,
      taskDefinitionArn: d.taskDefinition,
      image: essential?.image ?? '',
      targetGroupArn: d.targetGroupArn ?? lb.targetGroupArn,
      productionWeight,
      testWeight,
    };
  };
  const advanced = lb.advancedConfiguration ?? rules;
  const production = advanced?.productionListenerRule ? elb?.weights(advanced.productionListenerRule) : undefined;
  if (advanced && production) {
    const test = advanced.testListenerRule ? elb?.weights(advanced.testListenerRule) : undefined;
    // Two deployments may have used one target group: it serves the primary's revision, else the newest one's.
    const owner = new Map<string, DeploymentRecord>();
    const ordered = [
      ...deployments.filter((d) => d.status !== 'PRIMARY').sort((a, b) => a.createdAt - b.createdAt),
      ...deployments.filter((d) => d.status === 'PRIMARY'),
    ];
    for (const d of ordered) {
      owner.set(d.targetGroupArn ?? lb.targetGroupArn, d);
    }
    // A target group's requests go to its healthy targets: when tasks of two revisions share one group (a
    // rolling deployment, or its rollback), each revision gets its share of them. A group with no healthy
    // target yet serves the revision that owns it.
    const servingIn = (group: string, d?: DeploymentRecord): number =>
      tasks.filter(
        (t) =>
          (t.targetGroupArn ?? lb.targetGroupArn) === group &&
          t.lastStatus === 'RUNNING' &&
          t.target === 'healthy' &&
          (d === undefined || t.deploymentId === d.id),
      ).length;
    const weightOf = (rule: readonly { targetGroupArn: string; weight: number }[] | undefined, d: DeploymentRecord): number =>
      (rule ?? []).reduce((sum, { targetGroupArn: group, weight }) => {
        const all = servingIn(group);
        if (all === 0) return sum + (owner.get(group) === d ? weight : 0);
        return sum + Math.round((10 * weight * servingIn(group, d)) / all) / 10;
      }, 0);
    return deployments
      .map((d) => view(d, weightOf(production, d), weightOf(test, d)))
      .filter((r, i) => r.productionWeight > 0 || r.testWeight > 0 || live(deployments[i] as DeploymentRecord));
  }
  const serving = (d: DeploymentRecord): number =>
    tasks.filter((t) => t.deploymentId === d.id && t.lastStatus === 'RUNNING' && (t.target === 'healthy' || t.target === 'unused')).length;
  const total = deployments.reduce((sum, d) => sum + serving(d), 0);
  return deployments.filter((d) => live(d) || serving(d) > 0).map((d) => view(d, total === 0 ? 0 : Math.round((1000 * serving(d)) / total) / 10, 0));
}
