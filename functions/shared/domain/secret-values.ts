/**
 * The values of the fleet's managed secrets: how the rotation function makes the
 * next one (node:crypto, unbiased), and the policy testSecret holds a pending
 * value to. Problems describe a value by its length and alphabet, never by its
 * characters: they end up in error messages and logs.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { FleetSecret } from '../../../lib/fleet/fleet';

export type TokenAlphabet = 'alphanumeric' | 'hex' | 'base64url';

/** The characters of each token alphabet (alphanumeric in the sandbox's historic order). */
export const TOKEN_ALPHABETS: Readonly<Record<TokenAlphabet, string>> = {
  alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  hex: '0123456789abcdef',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
};

/** A source of random bytes; node:crypto's CSPRNG unless a test needs a fixed one. */
export type RandomBytes = (size: number) => Uint8Array;

/**
 * `length` characters drawn uniformly from `alphabet` by rejection sampling: a byte
 * maps to a character only below the largest multiple of the alphabet's size, so
 * no character is likelier than another (a plain `byte % size` would favour some).
 */
export function randomChars(length: number, alphabet: string, randomBytes: RandomBytes = cryptoRandomBytes): string {
  const size = alphabet.length;
  if (size < 2 || size > 256) throw new RangeError(`An alphabet needs 2 to 256 characters, not ${size}`);
  const limit = 256 - (256 % size);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(Math.max(16, (length - out.length) * 2))) {
      if (byte >= limit) continue;
      out += alphabet[byte % size];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new value of the secret's kind. */
export function generateSecretValue(secret: FleetSecret, randomBytes: RandomBytes = cryptoRandomBytes): string {
  switch (secret.kind) {
    case 'generated-token':
    case 'downstream':
      return randomChars(secret.length, TOKEN_ALPHABETS[secret.alphabet], randomBytes);
    case 'signing-key':
      return Buffer.from(randomBytes(secret.bytes)).toString(secret.encoding);
  }
}

const escapeForClass = (alphabet: string): string => alphabet.replace(/[\\\]^-]/g, '\\$&');

/**
 * What keeps `value` from being a valid value of the secret's kind; empty when it
 * is one. Each problem names lengths and alphabets only, never the value.
 */
export function secretValueProblems(secret: FleetSecret, value: string): string[] {
  const problems: string[] = [];
  switch (secret.kind) {
    case 'generated-token':
    case 'downstream': {
      if (value.length !== secret.length) problems.push(`has ${value.length} characters, expected ${secret.length}`);
      const outside = new RegExp(`[^${escapeForClass(TOKEN_ALPHABETS[secret.alphabet])}]`, 'g');
      const count = value.match(outside)?.length ?? 0;
      if (count > 0) problems.push(`has ${count} character${count === 1 ? '' : 's'} outside the ${secret.alphabet} alphabet`);
      break;
    }
    case 'signing-key': {
      const pattern = secret.encoding === 'hex' ? /^(?:[0-9a-f]{2})*$/ : /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
      const decoded = Buffer.from(value, secret.encoding);
      // Re-encoding catches the non-canonical forms the pattern lets through (stray bits in the last base64 character).
      if (!pattern.test(value) || decoded.toString(secret.encoding) !== value) {
        problems.push(`is not canonical ${secret.encoding}`);
        break;
      }
      const bytes = decoded.length;
      if (bytes !== secret.bytes) problems.push(`decodes to ${bytes} bytes, expected ${secret.bytes}`);
      break;
    }
  }
  return problems;
}
