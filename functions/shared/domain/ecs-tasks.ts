/** A service's tasks, with the private IP each one answers on. */
import { DescribeTasksCommand, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import type { HandlerDeps } from '../runtime/handler';

export async function describeServiceTasks(
  deps: Pick<HandlerDeps<'ecs'>, 'clients'>,
  cluster: string,
  serviceName: string,
  desiredStatus: 'RUNNING' | 'STOPPED',
): Promise<Task[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await deps.clients.ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus, nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const described = await deps.clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
    tasks.push(...(described.tasks ?? []));
  }
  return tasks;
}

export function privateIp(task: Task): string | undefined {
  for (const attachment of task.attachments ?? []) {
    if (attachment.type !== 'ElasticNetworkInterface') continue;
    const ip = attachment.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    if (ip) return ip;
  }
  return task.containers?.flatMap((c) => c.networkInterfaces ?? []).find((n) => n.privateIpv4Address)?.privateIpv4Address;
}

export const taskId = (task: Task): string => task.taskArn?.split('/').pop() ?? 'unknown';
