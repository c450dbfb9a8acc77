/** The sandbox's KMS answers as AWS does: ciphertexts name their key and bind their encryption context. */
import { describe, expect, it } from 'vitest';
import { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { SimulatedKms } from '../../lib/sandbox/simulated-kms';

const kms = (): SimulatedKms => {
  const service = new SimulatedKms({ account: '111122223333', region: 'eu-west-2' });
  service.createKey('k-1', 'alias/tokens');
  service.createKey('k-2');
  return service;
};

describe('simulated KMS', () => {
  it('encrypts under an alias, decrypts without a KeyId, and names the key', async () => {
    const service = kms();
    const sealed = (await service.handle('Encrypt', { KeyId: 'alias/tokens', Plaintext: Buffer.from('secret'), EncryptionContext: { a: '1' } })) as {
      CiphertextBlob: Uint8Array;
      KeyId: string;
    };
    expect(sealed.KeyId).toBe('arn:aws:kms:eu-west-2:111122223333:key/k-1');
    expect(Buffer.from(sealed.CiphertextBlob).toString('utf8')).not.toContain('secret');
    expect(service.ciphertextKeyArn(sealed.CiphertextBlob)).toBe(sealed.KeyId);
    const opened = (await service.handle('Decrypt', { CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { a: '1' } })) as { Plaintext: Uint8Array };
    expect(Buffer.from(opened.Plaintext).toString('utf8')).toBe('secret');
  });

  it('refuses another encryption context, a changed ciphertext, the wrong key and an unknown key', async () => {
    const service = kms();
    const { CiphertextBlob } = (await service.handle('Encrypt', { KeyId: 'k-1', Plaintext: Buffer.from('secret'), EncryptionContext: { a: '1' } })) as {
      CiphertextBlob: Uint8Array;
    };
    const code = (work: Promise<unknown>) =>
      work.then(
        () => 'none',
        (e: unknown) => (e instanceof SimulatedAwsError ? e.code : String(e)),
      );
    expect(await code(service.handle('Decrypt', { CiphertextBlob, EncryptionContext: { a: '2' } }))).toBe('InvalidCiphertextException');
    const changed = Uint8Array.from(CiphertextBlob);
    changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1;
    expect(await code(service.handle('Decrypt', { CiphertextBlob: changed, EncryptionContext: { a: '1' } }))).toBe('InvalidCiphertextException');
    expect(await code(service.handle('Decrypt', { CiphertextBlob, KeyId: 'k-2', EncryptionContext: { a: '1' } }))).toBe('IncorrectKeyException');
    expect(await code(service.handle('Encrypt', { KeyId: 'alias/nope', Plaintext: Buffer.from('x') }))).toBe('NotFoundException');
  });

  it('generates a data key whose ciphertext decrypts to it', async () => {
    const service = kms();
    const key = (await service.handle('GenerateDataKey', { KeyId: 'alias/tokens', KeySpec: 'AES_256' })) as {
      Plaintext: Uint8Array;
      CiphertextBlob: Uint8Array;
    };
    expect(key.Plaintext).toHaveLength(32);
    const opened = (await service.handle('Decrypt', { CiphertextBlob: key.CiphertextBlob })) as { Plaintext: Uint8Array };
    expect(Buffer.from(opened.Plaintext).equals(Buffer.from(key.Plaintext))).toBe(true);
  });
});
