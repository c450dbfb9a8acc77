/**
 * GetRandomPassword as the Secrets Manager API Reference documents it
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html):
 * PasswordLength 1–4096 (default 32); lowercase, uppercase, numbers and the
 * punctuation ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`` unless excluded; a space only
 * with IncludeSpace; ExcludeCharacters removes characters; RequireEachIncludedType
 * (default true) puts at least one character of every included type in.
 * Seeded, so the sandbox stays deterministic.
 */
import { SimulatedAwsError } from '../aws-error';
import type { SeededRandom } from '../deterministic';

export interface RandomPasswordRequest {
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludePunctuation?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeLowercase?: boolean;
  readonly IncludeSpace?: boolean;
  readonly RequireEachIncludedType?: boolean;
}

const TYPES: Readonly<Record<'lowercase' | 'uppercase' | 'numbers' | 'punctuation' | 'space', string>> = {
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  numbers: '0123456789',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  space: ' ',
};

export function randomPassword(request: RandomPasswordRequest, random: SeededRandom): string {
  const length = request.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw new SimulatedAwsError(
      'InvalidParameterException',
      `1 validation error detected: Value '${String(length)}' at 'passwordLength' failed to satisfy constraint: Member must have value between 1 and 4096`,
    );
  }
  const excluded = request.ExcludeCharacters ?? '';
  const included = [
    request.ExcludeLowercase === true ? undefined : TYPES.lowercase,
    request.ExcludeUppercase === true ? undefined : TYPES.uppercase,
    request.ExcludeNumbers === true ? undefined : TYPES.numbers,
    request.ExcludePunctuation === true ? undefined : TYPES.punctuation,
    request.IncludeSpace === true ? TYPES.space : undefined,
  ]
    .filter((t): t is string => t !== undefined)
    .map((t) => [...t].filter((c) => !excluded.includes(c)).join(''))
    .filter((t) => t.length > 0);
  const alphabet = included.join('');
  if (alphabet.length === 0) throw new SimulatedAwsError('InvalidParameterException', 'No characters are left to generate a password from.');
  const requireEach = request.RequireEachIncludedType !== false;
  if (requireEach && length < included.length) {
    throw new SimulatedAwsError(
      'InvalidParameterException',
      `The password length ${length} is too short to include a character of each of the ${included.length} included types.`,
    );
  }
  // Redraw until every included type appears: uniform over the passwords that qualify.
  for (;;) {
    const password = random.chars(length, alphabet);
    if (!requireEach || included.every((type) => [...password].some((c) => type.includes(c)))) return password;
  }
}
