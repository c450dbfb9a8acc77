/**
 * KMS: symmetric customer keys (SYMMETRIC_DEFAULT) with aliases, and Encrypt,
 * Decrypt and GenerateDataKey as AWS answers them. The ciphertext names its key,
 * as a KMS ciphertext blob does, so Decrypt needs no KeyId; the encryption context
 * is bound to it (a different context is InvalidCiphertextException). Key policies
 * are not modelled: IAM decides, in the account's authorizer. Key material is
 * derived from the key's ARN and a secret of this module, so a saved sandbox
 * decrypts what it encrypted without writing keys to disk.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { SimulatedAwsError } from './aws-error';
import type { SimulatedService } from './sdk-transport';

const MATERIAL_SECRET = 'assure-sandbox-kms';
const MAGIC = Buffer.from('SBKMS1');

interface KeyRecord {
  readonly keyId: string;
  readonly arn: string;
  readonly material: Buffer;
}

type Input = Record<string, unknown>;

const bytes = (value: unknown, field: string): Buffer => {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new SimulatedAwsError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`);
};

/** The encryption context, canonical (sorted keys), as additional authenticated data. */
const contextBytes = (context: unknown): Buffer => {
  const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b));
  return Buffer.from(JSON.stringify(entries), 'utf8');
};

export class SimulatedKms implements SimulatedService {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly aliases = new Map<string, string>();

  constructor(private readonly context: { readonly account: string; readonly region: string }) {}

  /** Creates a customer managed key (as CloudFormation would) and, if given, its alias; returns the key ARN. */
  createKey(keyId: string, alias?: string): string {
    const arn = `arn:aws:kms:${this.context.region}:${this.context.account}:key/${keyId}`;
    const material = createHmac('sha256', MATERIAL_SECRET).update(arn).digest();
    this.keys.set(keyId, { keyId, arn, material });
    if (alias) this.aliases.set(alias, keyId);
    return arn;
  }

  /** The key a KeyId names (key id, key ARN, alias name or alias ARN), as IAM authorizes the request on it. */
  keyArn(keyIdOrAlias: string): string | undefined {
    return this.resolve(keyIdOrAlias)?.arn;
  }

  /** The key a ciphertext blob was encrypted under. */
  ciphertextKeyArn(blob: unknown): string | undefined {
    if (!(blob instanceof Uint8Array)) return undefined;
    return this.parse(Buffer.from(blob))?.key.arn;
  }

  async handle(operation: string, input: Input): Promise<unknown> {
    switch (operation) {
      case 'Encrypt':
        return this.encrypt(input);
      case 'Decrypt':
        return this.decrypt(input);
      case 'GenerateDataKey':
        return this.generateDataKey(input);
      default:
        throw new SimulatedAwsError('UnsupportedOperationException', `The sandbox's KMS does not support ${operation}`);
    }
  }

  private encrypt(input: Input): object {
    const key = this.required(input.KeyId);
    const plaintext = bytes(input.Plaintext, 'plaintext');
    if (plaintext.length === 0 || plaintext.length > 4096) {
      throw new SimulatedAwsError(
        'ValidationException',
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and 4096",
      );
    }
    return { CiphertextBlob: new Uint8Array(this.seal(key, plaintext, input.EncryptionContext)), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  }

  private decrypt(input: Input): object {
    const parsed = this.parse(bytes(input.CiphertextBlob, 'ciphertextBlob'));
    if (!parsed) throw new SimulatedAwsError('InvalidCiphertextException', '');
    if (typeof input.KeyId === 'string' && this.resolve(input.KeyId)?.arn !== parsed.key.arn) {
      throw new SimulatedAwsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', parsed.key.material, parsed.iv);
      decipher.setAAD(contextBytes(input.EncryptionContext));
      decipher.setAuthTag(parsed.tag);
      const plaintext = Buffer.concat([decipher.update(parsed.body), decipher.final()]);
      return { Plaintext: new Uint8Array(plaintext), KeyId: parsed.key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    } catch {
      // A changed ciphertext or a different encryption context: KMS says no more than this.
      throw new SimulatedAwsError('InvalidCiphertextException', '');
    }
  }

  private generateDataKey(input: Input): object {
    const key = this.required(input.KeyId);
    const length = typeof input.NumberOfBytes === 'number' ? input.NumberOfBytes : input.KeySpec === 'AES_128' ? 16 : 32;
    const plaintext = randomBytes(length);
    return {
      Plaintext: new Uint8Array(plaintext),
      CiphertextBlob: new Uint8Array(this.seal(key, plaintext, input.EncryptionContext)),
      KeyId: key.arn,
    };
  }

  private seal(key: KeyRecord, plaintext: Buffer, context: unknown): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(contextBytes(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(key.keyId, 'utf8');
    return Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv, cipher.getAuthTag(), body]);
  }

  private parse(blob: Buffer): { key: KeyRecord; iv: Buffer; tag: Buffer; body: Buffer } | undefined {
    if (blob.length < MAGIC.length + 1 || !blob.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const idLength = blob[MAGIC.length] as number;
    let offset = MAGIC.length + 1;
    const key = this.keys.get(blob.subarray(offset, offset + idLength).toString('utf8'));
    offset += idLength;
    if (!key || blob.length < offset + 28) return undefined;
    return { key, iv: blob.subarray(offset, offset + 12), tag: blob.subarray(offset + 12, offset + 28), body: blob.subarray(offset + 28) };
  }

  private resolve(keyIdOrAlias: string): KeyRecord | undefined {
    const alias = /(?:^|:)(alias\/.+)$/.exec(keyIdOrAlias)?.[1];
    const keyId = alias ? this.aliases.get(alias) : keyIdOrAlias.split('/').pop();
    return keyId === undefined ? undefined : this.keys.get(keyId);
  }

  private required(keyId: unknown): KeyRecord {
    const key = typeof keyId === 'string' ? this.resolve(keyId) : undefined;
    if (!key)
      throw new SimulatedAwsError(
        'NotFoundException',
        `${typeof keyId === 'string' && keyId.includes('alias/') ? 'Alias' : 'Key'} '${String(keyId)}' does not exist`,
      );
    return key;
  }
}
