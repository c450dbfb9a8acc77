/**
 * The resume approval's Step Functions task token, kept where only the decision
 * function can use it: the control-state table holds the token's SHA-256 hash and
 * the token encrypted under Assure's approval-token key (KMS, encryption context
 * = the approval id), never the token itself. Only the request function may
 * Encrypt and only the decision function may Decrypt under that key.
 */
import { createHash } from 'node:crypto';
import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import type { HandlerDeps } from '../runtime/handler';

/** The key's alias: the stack creates it, handlers name it by the environment. */
export const approvalTokenKeyAlias = (environment: string): string => `alias/assure-${environment}-approval-tokens`;

export const taskTokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface SealedTaskToken {
  readonly taskTokenHash: string;
  /** KMS ciphertext blob, base64. */
  readonly taskTokenCiphertext: string;
}

type KmsDeps = Pick<HandlerDeps<'kms'>, 'clients' | 'config'>;

export async function sealTaskToken(deps: KmsDeps, token: string, approvalId: string): Promise<SealedTaskToken> {
  const { CiphertextBlob } = await deps.clients.kms.send(
    new EncryptCommand({
      KeyId: approvalTokenKeyAlias(deps.config.environment),
      Plaintext: Buffer.from(token, 'utf8'),
      EncryptionContext: { approvalId },
    }),
  );
  if (!CiphertextBlob) throw new Error('KMS Encrypt returned no ciphertext');
  return { taskTokenHash: taskTokenHash(token), taskTokenCiphertext: Buffer.from(CiphertextBlob).toString('base64') };
}

/** The token, decrypted and checked against its hash (a swapped ciphertext is refused). */
export async function openTaskToken(deps: KmsDeps, sealed: SealedTaskToken, approvalId: string): Promise<string> {
  const { Plaintext } = await deps.clients.kms.send(
    new DecryptCommand({ CiphertextBlob: Buffer.from(sealed.taskTokenCiphertext, 'base64'), EncryptionContext: { approvalId } }),
  );
  const token = Buffer.from(Plaintext ?? new Uint8Array()).toString('utf8');
  if (taskTokenHash(token) !== sealed.taskTokenHash) throw new Error(`The stored task token of approval ${approvalId} does not match its hash`);
  return token;
}
