/**
 * The applications running in the simulated tasks: their HTTP endpoints (deep
 * health, and the trading services' admin API), their halt state and open
 * orders, and the metrics they publish.
 *
 * The halt contract, as a trading service implements it:
 * - `POST /admin/halt` `{"reason", "haltId"}` stops new orders and cancels open
 *   ones (they drain to zero over a few seconds); `POST /admin/resume`
 *   `{"haltId"}` resumes; `GET /admin/status` answers `{"halted", "openOrders",
 *   "haltId"}`. All three need `Authorization: Bearer <token>`, the token the task
 *   read from Secrets Manager when it started.
 * - The service also polls the halt flag every few seconds, so a halt holds
 *   even if the call is lost.
 * - Over https (the fleet's `halt.adminApi.scheme`), the admin port speaks TLS
 *   only and presents the certificate below; a client verifies it as Node does
 *   (issued by a CA of the bundle it trusts, for the name it checks, in date), and
 *   a plain-HTTP request to it, or a TLS one to a plain port, fails as on a network.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { HttpRequest, HttpResponse } from '../../functions/shared/runtime/http';
import type { Fleet } from '../fleet/fleet';
import type { SeededRandom } from './deterministic';
import type { SimulatedEcs, TaskRecord } from './simulated-ecs';
import { answerHttp, type ImageBehaviour, type ImageCatalogue } from './simulated-workloads';
import { sleep } from './virtual-clock';

/** How often a trading service re-reads the halt flag. */
export const HALT_FLAG_POLL_MS = 5_000;
/** Orders a halted service cancels per second. */
export const ORDER_CANCEL_RATE_PER_SECOND = 10;
/** The environment variable that carries the admin API token into trading tasks. */
export const ADMIN_TOKEN_VARIABLE = 'ADMIN_API_TOKEN';

/**
 * The certificate the trading services' admin APIs present over https: issued for
 * admin.trading.internal by the example fleet's CA (examples/certs/trading-ca.pem).
 */
export const ADMIN_API_CERTIFICATE = readFileSync(new URL('./certs/trading-admin-api.pem', import.meta.url), 'utf8');

export interface AppState {
  readonly taskArn: string;
  readonly service: string;
  readonly trading: boolean;
  /** Secret values the task read when it started, by environment variable. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Which secret version each variable came from (issue: rotations leave running tasks on old versions). */
  readonly secretVersions: Readonly<Record<string, string>>;
  readonly startedAt: number;
  readonly openOrders: number;
  halt?: { readonly haltId: string; readonly reason: string; readonly at: number };
  resumedHaltIds: string[];
}

export interface HaltFlagView {
  readonly halted: boolean;
  readonly haltId?: string;
  readonly reason?: string;
  readonly modifiedAt: number;
}

export interface ApplicationsContext {
  readonly fleet: Fleet;
  readonly images: ImageCatalogue;
  readonly ecs: SimulatedEcs;
  readonly random: SeededRandom;
  /** The halt flag as the applications read it from SSM. */
  readonly haltFlag: () => HaltFlagView | undefined;
  /** The AWSCURRENT value and version of a secret, by ARN or name. */
  readonly currentSecret: (secretId: string) => { value: string; versionId: string } | undefined;
  /** The admin APIs' certificate (PEM) over https. @default ADMIN_API_CERTIFICATE */
  readonly adminApiCertificate?: string;
}

export class SimulatedApplications {
  private readonly apps = new Map<string, AppState>();

  constructor(private readonly context: ApplicationsContext) {}

  snapshot(): AppState[] {
    return structuredClone([...this.apps.values()]);
  }

  restore(states: readonly AppState[]): void {
    for (const state of structuredClone(states)) this.apps.set(state.taskArn, state);
  }

  /** A task's application started: it reads its secrets now, and only now. */
  taskStarted(task: TaskRecord): void {
    const service = Object.values(this.context.fleet.services).find((s) => task.group === `service:${s.ecsServiceName}`);
    const definition = this.context.ecs.taskDefinition(task.taskDefinitionArn);
    const secrets: Record<string, string> = {};
    const versions: Record<string, string> = {};
    for (const container of definition?.containerDefinitions ?? []) {
      for (const secret of container.secrets ?? []) {
        const current = this.context.currentSecret(secret.valueFrom);
        if (current) {
          secrets[secret.name] = current.value;
          versions[secret.name] = current.versionId;
        }
      }
    }
    const trading = service?.role === 'trading';
    this.apps.set(task.taskArn, {
      taskArn: task.taskArn,
      service: service?.id ?? task.group,
      trading,
      secrets,
      secretVersions: versions,
      startedAt: Date.now(),
      openOrders: trading ? workingOrders(this.context.random) : 0,
      resumedHaltIds: [],
    });
  }

  app(taskArn: string): AppState | undefined {
    return this.apps.get(taskArn);
  }

  /** Whether the task's application is halted now, and since when (explicitly, or by reading the flag). */
  haltState(task: TaskRecord, now = Date.now()): { halted: boolean; haltId?: string; since?: number } {
    const app = this.apps.get(task.taskArn);
    if (!app?.trading || this.behaviourOf(task) === 'ignores-halt') return { halted: false };
    if (app.halt) return { halted: true, haltId: app.halt.haltId, since: app.halt.at };
    const flag = this.context.haltFlag();
    if (flag?.halted && flag.haltId && !app.resumedHaltIds.includes(flag.haltId) && now >= flag.modifiedAt + HALT_FLAG_POLL_MS) {
      return { halted: true, haltId: flag.haltId, since: flag.modifiedAt + HALT_FLAG_POLL_MS };
    }
    return { halted: false };
  }

  openOrders(task: TaskRecord, now = Date.now()): number {
    const app = this.apps.get(task.taskArn);
    if (!app) return 0;
    const halt = this.haltState(task, now);
    if (!halt.halted || halt.since === undefined) return app.openOrders;
    return Math.max(0, Math.ceil(app.openOrders - (ORDER_CANCEL_RATE_PER_SECOND * (now - halt.since)) / 1000));
  }

  behaviourOf(task: TaskRecord): ImageBehaviour {
    return this.context.images.behaviourOf(task.image);
  }

  /** The network: a request to a task's private IP reaches its application, or times out / is refused. */
  async request({ method, url, headers, body, timeoutMs, tls }: HttpRequest): Promise<HttpResponse> {
    const parsed = new URL(url);
    const task = this.context.ecs.taskByIp(parsed.hostname);
    if (!task || task.lastStatus !== 'RUNNING') {
      await sleep(timeoutMs);
      throw Object.assign(new Error(`connect ETIMEDOUT ${parsed.host}`), { name: 'TimeoutError' });
    }
    const definition = this.context.ecs.taskDefinition(task.taskDefinitionArn);
    const ports = (definition?.containerDefinitions ?? []).flatMap((c) => (c.portMappings ?? []).map((p) => p.containerPort));
    if (!ports.includes(Number(parsed.port || 80))) {
      throw Object.assign(new Error(`connect ECONNREFUSED ${parsed.host}`), { name: 'ECONNREFUSED' });
    }
    const service = Object.values(this.context.fleet.services).find((s) => task.group === `service:${s.ecsServiceName}`);
    const tlsPort = this.context.fleet.halt?.adminApi.scheme === 'https' && service?.halt?.adminPort === Number(parsed.port || 80);
    if (tlsPort && parsed.protocol !== 'https:') {
      // The TLS listener drops a request that does not open with a handshake.
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    if (!tlsPort && parsed.protocol === 'https:') {
      throw Object.assign(new Error(`write EPROTO ${parsed.host}: SSL routines:ssl3_get_record:wrong version number`), { code: 'EPROTO' });
    }
    if (tlsPort) this.verifyCertificate(parsed.hostname, tls);
    if (!parsed.pathname.startsWith('/admin/')) return answerHttp(this.behaviourOf(task), parsed.pathname);
    return this.admin(task, method, parsed.pathname, headers ?? {}, body);
  }

  /** The client's side of the handshake, as Node checks it: a trusted issuer, the certificate's dates, then the name. */
  private verifyCertificate(host: string, tls: HttpRequest['tls']): void {
    const certificate = new X509Certificate(this.context.adminApiCertificate ?? ADMIN_API_CERTIFICATE);
    // Without a bundle the client trusts the public CAs only, which issue no certificates for internal names.
    const trusted = splitPem(tls?.ca ?? '').some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
    if (!trusted) throw Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const now = Date.now();
    if (now > Date.parse(certificate.validTo)) throw Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
    if (now < Date.parse(certificate.validFrom)) throw Object.assign(new Error('certificate is not yet valid'), { code: 'CERT_NOT_YET_VALID' });
    const name = tls?.serverName ?? host;
    const matches = isIP(name) ? certificate.checkIP(name) !== undefined : certificate.checkHost(name) !== undefined;
    if (!matches) {
      const which = isIP(name) ? `IP: ${name} is not in the cert's list: ` : `Host: ${name}. is not in the cert's altnames: `;
      throw Object.assign(new Error(`Hostname/IP does not match certificate's altnames: ${which}${certificate.subjectAltName ?? ''}`), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      });
    }
  }

  private admin(task: TaskRecord, method: string, path: string, headers: Readonly<Record<string, string>>, body: string | undefined): HttpResponse {
    const app = this.apps.get(task.taskArn);
    if (!app?.trading) return json(404, { error: 'not found' });
    const authorization = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    const token = app.secrets[ADMIN_TOKEN_VARIABLE];
    if (!token || authorization !== `Bearer ${token}`) return json(401, { error: 'unauthorized' });
    const now = Date.now();
    if (method === 'GET' && path === '/admin/status') {
      const halt = this.haltState(task, now);
      return json(200, { halted: halt.halted, openOrders: this.openOrders(task, now), haltId: halt.haltId ?? null });
    }
    let payload: { reason?: unknown; haltId?: unknown };
    try {
      payload = JSON.parse(body ?? '{}') as typeof payload;
    } catch {
      return json(400, { error: 'body must be JSON' });
    }
    if (method === 'POST' && path === '/admin/halt') {
      if (typeof payload.haltId !== 'string' || typeof payload.reason !== 'string') return json(400, { error: 'reason and haltId are required' });
      // A broken halt implementation: it says yes and keeps trading.
      if (this.behaviourOf(task) === 'ignores-halt') return json(202, { halted: true, haltId: payload.haltId });
      const current = this.haltState(task, now);
      if (!current.halted || !app.halt) {
        const ordersNow = this.openOrders(task, now);
        Object.assign(app, { openOrders: ordersNow });
        app.halt = { haltId: current.haltId ?? payload.haltId, reason: payload.reason, at: current.since ?? now };
      }
      return json(202, { halted: true, haltId: app.halt.haltId });
    }
    if (method === 'POST' && path === '/admin/resume') {
      if (typeof payload.haltId !== 'string') return json(400, { error: 'haltId is required' });
      if (!app.resumedHaltIds.includes(payload.haltId)) app.resumedHaltIds.push(payload.haltId);
      if (app.halt?.haltId === payload.haltId) delete app.halt;
      // Trading again: the service works a fresh book of orders.
      Object.assign(app, { openOrders: workingOrders(this.context.random) });
      return json(200, { halted: false });
    }
    return json(404, { error: 'not found' });
  }
}

/** The open orders of a trading service at work: 10 to 39. */
const workingOrders = (random: { next(): number }): number => 10 + Math.floor(random.next() * 30);

const json = (status: number, body: unknown): HttpResponse => ({ status, body: JSON.stringify(body) });

/** The certificates of a PEM bundle; text that is not a certificate trusts nothing, as in OpenSSL. */
function splitPem(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g) ?? []).flatMap((block) => {
    try {
      return [new X509Certificate(block)];
    } catch {
      return [];
    }
  });
}
