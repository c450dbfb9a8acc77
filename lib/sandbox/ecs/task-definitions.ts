/**
 * Task definitions: families of numbered revisions (RegisterTaskDefinition,
 * DescribeTaskDefinition), and the lookups the service and task modules resolve
 * a `taskDefinition` reference with.
 */
import { SimulatedAwsError } from '../aws-error';
import type { ContainerDefinition, EcsContext, TaskDefinitionFields, TaskDefinitionRecord } from './records';

export class TaskDefinitions {
  /** Revisions by family, oldest first. */
  private readonly families = new Map<string, TaskDefinitionRecord[]>();

  constructor(private readonly context: EcsContext) {}

  /** Every revision of every family, as a snapshot saves them. */
  all(): TaskDefinitionRecord[] {
    return [...this.families.values()].flat();
  }

  restore(definitions: readonly TaskDefinitionRecord[]): void {
    for (const definition of definitions) {
      const revisions = this.families.get(definition.family) ?? [];
      revisions.push(definition);
      this.families.set(definition.family, revisions);
    }
  }

  /** The revision a full task definition ARN names. */
  byArn(arn: string): TaskDefinitionRecord | undefined {
    const match = /task-definition\/([^:]+):(\d+)$/.exec(arn);
    if (!match) return undefined;
    return this.families.get(match[1] as string)?.find((d) => d.revision === Number(match[2]));
  }

  /** `family`, `family:revision` or an ARN, as ECS accepts them. */
  resolve(reference: string): TaskDefinitionRecord | undefined {
    const name = reference.includes('task-definition/') ? (reference.split('task-definition/')[1] ?? '') : reference;
    const [family, revision] = name.split(':');
    const revisions = this.families.get(family ?? '') ?? [];
    if (revision === undefined) return revisions.filter((d) => d.status === 'ACTIVE').at(-1);
    return revisions.find((d) => d.revision === Number(revision));
  }

  /** The family's next revision, ACTIVE. */
  register(fields: TaskDefinitionFields): TaskDefinitionRecord {
    const revisions = this.families.get(fields.family) ?? [];
    const revision = (revisions.at(-1)?.revision ?? 0) + 1;
    const definition: TaskDefinitionRecord = {
      ...structuredClone(fields),
      taskDefinitionArn: `arn:aws:ecs:${this.context.region}:${this.context.account}:task-definition/${fields.family}:${revision}`,
      revision,
      status: 'ACTIVE',
      registeredAt: Date.now(),
    };
    revisions.push(definition);
    this.families.set(fields.family, revisions);
    return definition;
  }

  describeTaskDefinition(input: Record<string, unknown>): object {
    const definition = this.resolve(String(input.taskDefinition ?? ''));
    if (!definition) throw new SimulatedAwsError('ClientException', 'Unable to describe task definition.');
    const { tags, registeredAt, ...rest } = structuredClone(definition);
    return {
      taskDefinition: { ...rest, registeredAt: new Date(registeredAt), compatibilities: ['EC2', 'FARGATE'] },
      ...((input.include as string[] | undefined)?.includes('TAGS') ? { tags } : {}),
    };
  }

  registerTaskDefinition(input: Record<string, unknown>): object {
    const family = String(input.family ?? '');
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family))
      throw new SimulatedAwsError('ClientException', 'Family must be 1-255 letters, numbers, hyphens or underscores.');
    const containers = input.containerDefinitions as ContainerDefinition[] | undefined;
    if (!containers || containers.length === 0) throw new SimulatedAwsError('ClientException', 'Container list cannot be empty.');
    for (const container of containers) {
      if (!container.name || !container.image)
        throw new SimulatedAwsError('ClientException', 'Container.name and Container.image should not be null or empty.');
    }
    const { tags, ...fields } = input as Record<string, unknown> & { tags?: { key: string; value: string }[] };
    const definition = this.register({
      ...fields,
      family,
      containerDefinitions: containers,
      networkMode: String(input.networkMode ?? 'awsvpc'),
      requiresCompatibilities: (input.requiresCompatibilities as string[] | undefined) ?? ['FARGATE'],
      cpu: String(input.cpu ?? '256'),
      memory: String(input.memory ?? '512'),
      tags: tags ?? [],
    });
    const { tags: registeredTags, registeredAt, ...rest } = structuredClone(definition);
    return { taskDefinition: { ...rest, registeredAt: new Date(registeredAt), compatibilities: ['EC2', 'FARGATE'] }, tags: registeredTags };
  }
}
