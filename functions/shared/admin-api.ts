/**
 * The trading services' admin API (POST /admin/halt, POST /admin/resume,
 * GET /admin/status). The bearer token is read from Secrets Manager inside the
 * calling function and never returned, logged or put in an error message.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Task } from '@aws-sdk/client-ecs';
import type { FleetService } from '../../lib/fleet/fleet';
import { describeServiceTasks, privateIp, taskId } from './ecs-tasks';
import type { HandlerDeps } from './handler';

type AdminDeps = Pick<HandlerDeps<'ecs' | 'secretsManager'>, 'clients' | 'fleet' | 'http'>;

/** A token that cannot leak by accident: it does not serialise. */
export class AdminToken {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  get authorization(): string {
    return `Bearer ${this.#value}`;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  /** Removes the token from text a task sent back (some 401 pages echo the credentials). */
  redactFrom(text: string): string {
    return this.#value.length === 0 ? text : text.split(this.#value).join('[redacted]');
  }
}

export async function readAdminToken(deps: AdminDeps): Promise<AdminToken | undefined> {
  const secretId = deps.fleet.halt?.adminTokenSecret;
  if (!secretId) return undefined;
  const secret = await deps.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!secret.SecretString) throw new Error(`Secret ${secretId} has no string value`);
  return new AdminToken(secret.SecretString);
}

export interface TaskAnswer {
  readonly task: string;
  readonly ip: string;
  readonly status: number | 'unreachable';
  readonly body: string;
}

/** Calls one admin endpoint on every running task of a service, in parallel. */
export async function callAdminApi(
  deps: AdminDeps,
  service: FleetService,
  token: AdminToken,
  method: 'GET' | 'POST',
  path: '/admin/halt' | '/admin/resume' | '/admin/status',
  body?: Record<string, unknown>,
): Promise<TaskAnswer[]> {
  const tasks = (await describeServiceTasks(deps, deps.fleet.cluster, service.ecsServiceName, 'RUNNING')).filter((t: Task) => t.lastStatus === 'RUNNING');
  const port = service.halt?.adminPort ?? 8080;
  return Promise.all(
    tasks.map(async (task): Promise<TaskAnswer> => {
      const ip = privateIp(task) ?? 'unknown';
      try {
        const response = await deps.http({
          method,
          url: `http://${ip}:${port}${path}`,
          headers: { authorization: token.authorization, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
          timeoutMs: 3_000,
        });
        return { task: taskId(task), ip, status: response.status, body: token.redactFrom(response.body).slice(0, 300) };
      } catch (error) {
        return { task: taskId(task), ip, status: 'unreachable', body: token.redactFrom((error as Error).message).slice(0, 200) };
      }
    }),
  );
}
