/**
 * The rotation function of the fleet's managed secrets, as Secrets Manager
 * invokes it: `{Step, SecretId, ClientRequestToken, RotationToken}` for each of
 * createSecret, setSecret, testSecret and finishSecret, the token being the new
 * version's id. Every step is idempotent: Secrets Manager may invoke one again.
 *
 * - createSecret puts a new value of the secret's kind as version `token`,
 *   staged AWSPENDING, unless that version already has a value.
 * - setSecret installs the pending value in the downstream system (logged in
 *   with the current one); generated tokens and keys have nowhere to install.
 * - testSecret holds the pending value to its kind's policy and, downstream,
 *   logs in with it.
 * - finishSecret moves AWSCURRENT to the new version (Secrets Manager moves
 *   AWSPREVIOUS to the old one) and takes AWSPENDING off it, so the next
 *   RotateSecret does not find a rotation in progress.
 *
 * Secret values stay inside this function: none is logged, returned or put in
 * an error message.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type DescribeSecretCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import type { Fleet, FleetSecret } from '../../lib/fleet/fleet';
import { findSecret } from '../../lib/fleet/fleet-queries';
import { credentialProviderFor, type CredentialProviderFactory } from '../shared/domain/credential-providers';
import {
  CredentialRejectedError,
  RotationNotEnabledError,
  SecretValuePolicyError,
  SecretVersionStateError,
  UnknownRotationTokenError,
  UnmanagedSecretError,
} from '../shared/runtime/errors';
import { defineHandler, type HandlerDeps } from '../shared/runtime/handler';
import { generateSecretValue, secretValueProblems } from '../shared/domain/secret-values';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/**
 * The event Secrets Manager sends. Not a strict object: a field AWS adds to the
 * event later must not stop rotation; the four it documents are checked.
 */
export const rotationEventSchema = z.object({
  Step: z.enum(ROTATION_STEPS),
  SecretId: z.string().min(1).max(2048),
  /** The new version's id (Secrets Manager: 32 to 64 characters). */
  ClientRequestToken: z.string().min(32).max(64),
  /** Proves the call comes from this rotation; passed on to PutSecretValue. Sensitive: never logged. */
  RotationToken: z.string().min(1).max(2048).optional(),
});

export type RotationEvent = z.output<typeof rotationEventSchema>;

/** What each step did. */
export type RotationOutcome =
  /** The version is already AWSCURRENT: an earlier invocation finished the rotation. */
  | 'already-current'
  | 'created'
  /** The pending version already had its value (a repeated createSecret). */
  | 'already-created'
  | 'set'
  /** The downstream system already accepts the pending value (a repeated setSecret). */
  | 'already-set'
  /** The kind has no downstream system to install the value in. */
  | 'nothing-to-set'
  | 'tested'
  | 'finished';

/** The step's result: names and ids only, never a value. */
export interface RotationResult {
  readonly step: RotationStep;
  /** The fleet file's id of the secret. */
  readonly secret: string;
  readonly secretArn: string;
  readonly versionId: string;
  readonly outcome: RotationOutcome;
}

const AWSCURRENT = 'AWSCURRENT';
const AWSPENDING = 'AWSPENDING';

type RotationDeps = HandlerDeps<'secretsManager'>;

interface StepContext {
  readonly deps: RotationDeps;
  readonly event: RotationEvent;
  readonly secret: FleetSecret;
  readonly arn: string;
  readonly name: string;
  readonly versions: Readonly<Record<string, readonly string[]>>;
  readonly providerFor: CredentialProviderFactory;
}

/** The fleet secret a Secrets Manager secret is, matched by ARN and name (a fleet id is not a secret's name). */
function managedSecret(fleet: Fleet, description: DescribeSecretCommandOutput, secretId: string): FleetSecret {
  const arn = description.ARN ?? secretId;
  const secret = findSecret(fleet, arn);
  if (!secret || (description.Name !== undefined && secret.name !== description.Name)) {
    throw new UnmanagedSecretError(`Secret ${description.Name ?? secretId} is not managed by the fleet file, so Assure cannot make its next value`);
  }
  return secret;
}

async function readValue(context: StepContext, selector: { VersionStage: string; VersionId?: string }, what: string): Promise<string> {
  const result = await context.deps.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: context.arn, ...selector }));
  if (result.SecretString === undefined) throw new SecretVersionStateError(`The ${what} version of secret ${context.name} has no string value`);
  return result.SecretString;
}

const readCurrent = (context: StepContext): Promise<string> => readValue(context, { VersionStage: AWSCURRENT }, AWSCURRENT);
const readPending = (context: StepContext): Promise<string> =>
  readValue(context, { VersionId: context.event.ClientRequestToken, VersionStage: AWSPENDING }, `${AWSPENDING} ${context.event.ClientRequestToken}`);

const isNotFound = (error: unknown): boolean => (error as Error).name === 'ResourceNotFoundException';

async function createSecret(context: StepContext): Promise<RotationOutcome> {
  const { deps, event, secret } = context;
  // The current value must exist (as AWS's templates check); it is not needed here.
  await readCurrent(context);
  try {
    await readPending(context);
    return 'already-created';
  } catch (error) {
    // RotateSecret created the version with AWSPENDING but no value yet: not found until createSecret puts one.
    if (!isNotFound(error)) throw error;
  }
  try {
    await deps.clients.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: context.arn,
        ClientRequestToken: event.ClientRequestToken,
        SecretString: generateSecretValue(secret),
        VersionStages: [AWSPENDING],
        ...(event.RotationToken ? { RotationToken: event.RotationToken } : {}),
      }),
    );
    return 'created';
  } catch (error) {
    // A concurrent createSecret put its own value first: that value stands, and this one is dropped.
    if ((error as Error).name !== 'ResourceExistsException') throw error;
    await readPending(context);
    return 'already-created';
  }
}

async function setSecret(context: StepContext): Promise<RotationOutcome> {
  const { deps, secret } = context;
  if (secret.kind !== 'downstream') return 'nothing-to-set';
  const provider = context.providerFor(secret, deps.http);
  const username = secret.provider.username;
  const pending = await readPending(context);
  // A repeated setSecret: the password was already changed, so the current one no longer logs in.
  try {
    await provider.testCredential({ username, value: pending });
    return 'already-set';
  } catch (error) {
    if (!(error instanceof CredentialRejectedError)) throw error;
  }
  await provider.setCredential({ username, current: await readCurrent(context), pending });
  return 'set';
}

async function testSecret(context: StepContext): Promise<RotationOutcome> {
  const { deps, secret, event } = context;
  const pending = await readPending(context);
  const problems = secretValueProblems(secret, pending);
  if (pending === (await readCurrent(context))) problems.push(`repeats the ${AWSCURRENT} value`);
  if (problems.length > 0) {
    throw new SecretValuePolicyError(
      `The ${AWSPENDING} version ${event.ClientRequestToken} of secret ${context.name} is not a valid ${secret.kind}: it ${problems.join('; it ')}`,
    );
  }
  if (secret.kind === 'downstream') {
    await context.providerFor(secret, deps.http).testCredential({ username: secret.provider.username, value: pending });
  }
  return 'tested';
}

async function finishSecret(context: StepContext): Promise<RotationOutcome> {
  const { deps, event, versions } = context;
  const token = event.ClientRequestToken;
  const current = Object.entries(versions).find(([, stages]) => stages.includes(AWSCURRENT))?.[0];
  await deps.clients.secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: context.arn,
      VersionStage: AWSCURRENT,
      MoveToVersionId: token,
      ...(current ? { RemoveFromVersionId: current } : {}),
    }),
  );
  // AWSPENDING left on a version that is not AWSCURRENT would make the next RotateSecret fail.
  await deps.clients.secretsManager.send(new UpdateSecretVersionStageCommand({ SecretId: context.arn, VersionStage: AWSPENDING, RemoveFromVersionId: token }));
  return 'finished';
}

const STEPS: Readonly<Record<RotationStep, (context: StepContext) => Promise<RotationOutcome>>> = { createSecret, setSecret, testSecret, finishSecret };

/** The handler, with the downstream providers a test may replace. */
export function createRotateSecretValue(providerFor: CredentialProviderFactory = credentialProviderFor) {
  return defineHandler({
    name: 'rotate-secret-value',
    description: "Secrets Manager's rotation function for the fleet's managed secrets (createSecret, setSecret, testSecret, finishSecret)",
    clients: ['secretsManager'],
    input: rotationEventSchema,
    core: async (event, deps): Promise<RotationResult> => {
      const token = event.ClientRequestToken;
      const description = await deps.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
      const name = description.Name ?? event.SecretId;
      if (description.RotationEnabled !== true) throw new RotationNotEnabledError(`Secret ${name} is not enabled for rotation`);
      const secret = managedSecret(deps.fleet, description, event.SecretId);
      const arn = description.ARN ?? event.SecretId;
      const versions = description.VersionIdsToStages ?? {};
      const stages = versions[token];
      const result = (outcome: RotationOutcome): RotationResult => {
        deps.logger.info(`${event.Step}: ${outcome}`, { step: event.Step, secret: secret.id, secretName: name, versionId: token, outcome });
        return { step: event.Step, secret: secret.id, secretArn: arn, versionId: token, outcome };
      };
      if (!stages) throw new UnknownRotationTokenError(`Version ${token} of secret ${name} has no stage for rotation`);
      if (stages.includes(AWSCURRENT)) return result('already-current');
      if (!stages.includes(AWSPENDING)) throw new UnknownRotationTokenError(`Version ${token} of secret ${name} is not staged ${AWSPENDING} for rotation`);
      const outcome = await STEPS[event.Step]({ deps, event, secret, arn, name, versions, providerFor });
      return result(outcome);
    },
  });
}

export const rotateSecretValue = createRotateSecretValue();
