/**
 * The sandbox's policies come from the same CDK synthesis that deploys to AWS.
 * Synthesis takes seconds, so its policy set is cached under
 * `node_modules/.cache/assure/`, keyed by a hash of the resolved fleet, the
 * account, and the code that shapes the stack (lib/ outside the sandbox and
 * CLI, the handlers and ASL files, the CDK version). Written to a temporary
 * file and renamed, so concurrent test workers never read half a file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fleet } from '../../fleet/fleet';
import type { AccountContext } from '../../naming';
import { type CfnTemplate, type PolicySet, policySetFromTemplate } from './template-policies';

const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CACHE_DIRECTORY = join(PROJECT_ROOT, 'node_modules', '.cache', 'assure');
/** Bumped when the cached file's shape changes. */
const CACHE_FORMAT = 2;

/** The stack name the sandbox gives its synthesis, as bin/app.ts names the deployed stack. */
export const stackNameFor = (fleet: Fleet): string => `Assure-${fleet.environment}`;

function sourceFiles(directory: string, skip: (path: string) => boolean): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|json|ya?ml)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !skip(relative(PROJECT_ROOT, path)))
    .sort();
}

/** The code synthesis reads, hashed once per process: it does not change while Assure runs. */
let codeDigest: string | undefined;

function stackCodeDigest(): string {
  if (codeDigest !== undefined) return codeDigest;
  const hash = createHash('sha256');
  const inSandboxOrCli = (path: string): boolean =>
    (path.startsWith('lib/sandbox/') && !path.startsWith('lib/sandbox/iam/template-policies')) || path.startsWith('lib/cli/');
  const files = [
    ...sourceFiles(join(PROJECT_ROOT, 'lib'), inSandboxOrCli),
    ...sourceFiles(join(PROJECT_ROOT, 'functions'), () => false),
    ...sourceFiles(join(PROJECT_ROOT, 'state-machines'), () => false),
  ];
  for (const file of files) hash.update(`${relative(PROJECT_ROOT, file)}\n`).update(readFileSync(file));
  const cdk = join(PROJECT_ROOT, 'node_modules', 'aws-cdk-lib', 'package.json');
  if (existsSync(cdk)) hash.update((JSON.parse(readFileSync(cdk, 'utf8')) as { version: string }).version);
  codeDigest = hash.digest('hex');
  return codeDigest;
}

/** Everything synthesis reads: changing any of it changes the key. */
export function policyCacheKey(fleet: Fleet, context: AccountContext): string {
  return createHash('sha256')
    .update(`${CACHE_FORMAT}\n${JSON.stringify(fleet)}\n${context.account}\n${context.region}\n${stackCodeDigest()}`)
    .digest('hex')
    .slice(0, 24);
}

/** Synthesizes the fleet's stack in `context`'s account (no bundling) and returns its template. */
export async function synthesizeTemplate(fleet: Fleet, context: AccountContext): Promise<CfnTemplate> {
  // Loaded only on a cache miss: the CDK library is large.
  const [{ App }, { AssureStack }] = await Promise.all([import('aws-cdk-lib'), import('../../assure-stack')]);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AssureStack(app, stackNameFor(fleet), { fleet, env: { account: context.account, region: context.region } });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

/** The fleet's policy set: from this process's memory, the cache file, or synthesized and cached. Every sandbox a CLI command or test opens after the first reads nothing. */
const loaded = new Map<string, PolicySet>();

export async function loadPolicySet(fleet: Fleet, context: AccountContext): Promise<PolicySet> {
  const key = policyCacheKey(fleet, context);
  const known = loaded.get(key);
  if (known) return known;
  const policies = await readOrSynthesize(fleet, context, key);
  loaded.set(key, policies);
  return policies;
}

async function readOrSynthesize(fleet: Fleet, context: AccountContext, key: string): Promise<PolicySet> {
  const file = join(CACHE_DIRECTORY, `iam-${key}.json`);
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as PolicySet;
    } catch {
      // A damaged cache file is synthesized again.
    }
  }
  const policies = policySetFromTemplate(await synthesizeTemplate(fleet, context), stackNameFor(fleet), context);
  try {
    mkdirSync(CACHE_DIRECTORY, { recursive: true });
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(temporary, JSON.stringify(policies));
    renameSync(temporary, file);
  } catch {
    // A read-only checkout still works, only without the cache.
  }
  return policies;
}
