/**
 * A downstream system for unit tests: one password per account, held in memory.
 * It records each call (operation, account, whether it was accepted) but never a
 * credential, so a test can print `calls` without leaking anything.
 */
import type { CredentialProvider } from '../../functions/shared/domain/credential-providers';
import { CredentialRejectedError } from '../../functions/shared/runtime/errors';

export interface CredentialCall {
  readonly operation: 'set' | 'test';
  readonly username: string;
  readonly accepted: boolean;
}

export class InMemoryCredentialProvider implements CredentialProvider {
  private readonly passwords = new Map<string, string>();
  readonly calls: CredentialCall[] = [];

  constructor(accounts: Readonly<Record<string, string>> = {}) {
    for (const [username, password] of Object.entries(accounts)) this.passwords.set(username, password);
  }

  password(username: string): string | undefined {
    return this.passwords.get(username);
  }

  setCredential({ username, current, pending }: { username: string; current: string; pending: string }): Promise<void> {
    const accepted = this.passwords.get(username) === current;
    this.calls.push({ operation: 'set', username, accepted });
    if (!accepted) return Promise.reject(new CredentialRejectedError(`in-memory provider refused the password change for ${username}: HTTP 401`));
    this.passwords.set(username, pending);
    return Promise.resolve();
  }

  testCredential({ username, value }: { username: string; value: string }): Promise<void> {
    const accepted = this.passwords.get(username) === value;
    this.calls.push({ operation: 'test', username, accepted });
    return accepted ? Promise.resolve() : Promise.reject(new CredentialRejectedError(`in-memory provider refused the login of ${username}: HTTP 401`));
  }
}
