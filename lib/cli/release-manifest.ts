/**
 * A release manifest: `{services: {<id>: <repository>@sha256:<digest>}, reason?}`
 * in YAML or JSON. Validated against the fleet before anything starts; every
 * error names the field.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import type { Fleet } from '../fleet/fleet';

export interface ReleaseManifest {
  /** Service id → `<repository>@sha256:<64 hex>`, in the fleet's dependency order. */
  readonly services: Readonly<Record<string, string>>;
  readonly reason?: string;
}

/** A manifest that cannot be read or does not validate; runCli reports it as invalid (exit 2). */
export class ReleaseManifestError extends Error {
  override readonly name = 'ReleaseManifestError';
  constructor(
    readonly source: string,
    readonly issues: readonly string[],
  ) {
    super(issues.length === 1 ? `${source}: ${issues[0] ?? ''}` : `${source} is not a valid release manifest:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

const manifestSchema = z.strictObject({
  services: z.record(z.string(), z.string({ error: 'must be an image reference <repository>@sha256:<digest>' })).refine((s) => Object.keys(s).length > 0, {
    message: 'must name at least one service',
  }),
  reason: z.string().min(1, 'must not be empty').max(500).optional(),
});

const DIGEST_REFERENCE = /^(?<repository>[^@\s]+)@(?<digest>sha256:[0-9a-f]{64})$/;

/** Checks a parsed manifest against the fleet: known services, and digest references of each service's own repository. */
export function validateManifest(raw: unknown, fleet: Fleet, source = 'manifest'): ReleaseManifest {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ReleaseManifestError(
      source,
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(manifest)'}: ${i.message}`),
    );
  }
  const issues: string[] = [];
  const known = Object.keys(fleet.services);
  for (const [id, image] of Object.entries(parsed.data.services)) {
    const field = `services.${id}`;
    const service = fleet.services[id];
    if (!service) {
      issues.push(`${field}: ${id} is not in the ${fleet.environment} fleet (known: ${known.join(', ')})`);
      continue;
    }
    const match = DIGEST_REFERENCE.exec(image);
    if (!match?.groups) {
      issues.push(`${field}: must be a digest reference ${service.imageRepository}@sha256:<64 hex> (a release deploys a digest, never a tag), got ${image}`);
    } else if (match.groups.repository !== service.imageRepository) {
      issues.push(`${field}: must be an image of ${service.imageRepository}, got ${match.groups.repository}`);
    }
  }
  if (issues.length > 0) throw new ReleaseManifestError(source, issues);
  const services = Object.fromEntries(fleet.deployOrder.filter((id) => id in parsed.data.services).map((id) => [id, parsed.data.services[id] ?? '']));
  return { services, ...(parsed.data.reason ? { reason: parsed.data.reason } : {}) };
}

/** Parses manifest text (YAML, of which JSON is a subset) and validates it. */
export function parseManifest(text: string, fleet: Fleet, source = 'manifest'): ReleaseManifest {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ReleaseManifestError(
      source,
      document.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0] ?? e.message}`),
    );
  }
  return validateManifest(document.toJS(), fleet, source);
}

export function loadManifest(file: string, fleet: Fleet): ReleaseManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReleaseManifestError(file, [`cannot be read: ${(error as Error).message}`]);
  }
  return parseManifest(text, fleet, file);
}
