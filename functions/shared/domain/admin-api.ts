/**
 * The trading services' admin API (POST /admin/halt, POST /admin/resume,
 * GET /admin/status). The bearer token is read from Secrets Manager inside the
 * calling function and never returned, logged or put in an error message.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Task } from '@aws-sdk/client-ecs';
import type { Fleet, FleetService } from '../../../lib/fleet/fleet';
import { describeServiceTasks, privateIp, taskId } from './ecs-tasks';
import type { HandlerDeps } from '../runtime/handler';
import type { HttpRequest } from '../runtime/http';

type AdminDeps = Pick<HandlerDeps<'ecs' | 'secretsManager'>, 'clients' | 'fleet' | 'http'>;

/**
 * A token that cannot leak by accident: it does not serialise. It can also give
 * the previous value (AWSPREVIOUS) while a rotation is under way: tasks read the
 * token only when they start, so until every task is replaced some still expect
 * the old one, and a halt must not fail on a 401 in that window. The previous
 * value is read only when a task refuses the current one, and then once.
 */
export class AdminToken {
  readonly #value: string;
  readonly #readPrevious: () => Promise<string | undefined>;
  #previous: Promise<string | undefined> | undefined;
  #previousValue: string | undefined;
  constructor(value: string, readPrevious: () => Promise<string | undefined> = async () => undefined) {
    this.#value = value;
    this.#readPrevious = readPrevious;
  }
  get authorization(): string {
    return `Bearer ${this.#value}`;
  }
  /** The previous token's header, to retry a task that refused the current one; undefined when there is none. */
  async previousAuthorization(): Promise<string | undefined> {
    this.#previous ??= this.#readPrevious().then((previous) => {
      this.#previousValue = previous === this.#value ? undefined : previous;
      return this.#previousValue;
    });
    const previous = await this.#previous;
    return previous === undefined ? undefined : `Bearer ${previous}`;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  /** Removes the token (and the previous one, if sent) from text a task sent back (some 401 pages echo the credentials). */
  redactFrom(text: string): string {
    let redacted = text;
    for (const value of [this.#value, this.#previousValue]) if (value) redacted = redacted.split(value).join('[redacted]');
    return redacted;
  }
}

export async function readAdminToken(deps: AdminDeps): Promise<AdminToken | undefined> {
  const secretId = deps.fleet.halt?.adminTokenSecret;
  if (!secretId) return undefined;
  const secret = await deps.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!secret.SecretString) throw new Error(`Secret ${secretId} has no string value`);
  return new AdminToken(secret.SecretString, async () => {
    try {
      return (await deps.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPREVIOUS' }))).SecretString;
    } catch (error) {
      // Never rotated: there is no AWSPREVIOUS version.
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  });
}

/**
 * The scheme and TLS settings of every admin API call: https verified against the fleet's CA
 * bundle, unless the fleet file allows plain HTTP inside the VPC (halt.adminApi). The fleet
 * schema refuses anything else, so a fleet without halt settings (no token, no call) is the only
 * other case.
 */
function adminTransport(fleet: Fleet): { scheme: 'https' | 'http'; tls?: HttpRequest['tls'] } {
  const api = fleet.halt?.adminApi;
  if (api?.scheme === 'http') return { scheme: 'http' };
  if (!api) throw new Error('The fleet file configures no admin API (halt.adminApi)');
  return { scheme: 'https', tls: { ca: api.caBundle, ...(api.serverName === undefined ? {} : { serverName: api.serverName }) } };
}

/** Node's TLS verification failures (OpenSSL's and Node's own codes): the certificate, not the network, stopped the call. */
const TLS_VERIFICATION_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Why a call got no answer; a certificate failure says which fleet settings it was checked against. */
function connectionFailure(error: Error): string {
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && TLS_VERIFICATION_CODES.has(code)) {
    return `TLS certificate refused (${code}: ${error.message}); checked against halt.adminApi.caBundle and serverName`;
  }
  return error.message;
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
  const transport = adminTransport(deps.fleet);
  return Promise.all(
    tasks.map(async (task): Promise<TaskAnswer> => {
      const ip = privateIp(task) ?? 'unknown';
      try {
        const call = (authorization: string) =>
          deps.http({
            method,
            url: `${transport.scheme}://${ip}:${port}${path}`,
            ...(transport.tls ? { tls: transport.tls } : {}),
            headers: { authorization, 'content-type': 'application/json' },
            ...(body ? { body: JSON.stringify(body) } : {}),
            timeoutMs: 3_000,
          });
        let response = await call(token.authorization);
        // A task started before the token's last rotation still expects the previous one.
        if (response.status === 401) {
          const previous = await token.previousAuthorization();
          if (previous) response = await call(previous);
        }
        return { task: taskId(task), ip, status: response.status, body: token.redactFrom(response.body).slice(0, 300) };
      } catch (error) {
        return { task: taskId(task), ip, status: 'unreachable', body: token.redactFrom(connectionFailure(error as Error)).slice(0, 200) };
      }
    }),
  );
}
