import { describe, expect, it, vi } from 'vitest';
import { HttpCredentialApiProvider } from '../../functions/shared/domain/credential-providers';
import { CredentialProviderUnavailableError } from '../../functions/shared/runtime/errors';
import type { HttpClient } from '../../functions/shared/runtime/http';
import { SimulatedCredentialApi } from '../../lib/sandbox/simulated-credential-api';
import { loadFleetFile } from '../../lib/fleet/fleet-file';

describe('downstream credential API: https only', () => {
  it('sends no credential to a URL that is not https, even if one reached the provider', async () => {
    const http = vi.fn<HttpClient>();
    const provider = new HttpCredentialApiProvider('http://credentials.venue.example.com/api', http);

    await expect(provider.testCredential({ username: 'ASSURE01', value: 'a-password-of-some-length' })).rejects.toThrow(
      new CredentialProviderUnavailableError('GET http://credentials.venue.example.com/api/session not sent: credentials go to https URLs only'),
    );
    await expect(provider.setCredential({ username: 'ASSURE01', current: 'old-password-0123456', pending: 'new-password-0123456' })).rejects.toBeInstanceOf(
      CredentialProviderUnavailableError,
    );
    expect(http).not.toHaveBeenCalled();
  });

  it('in the sandbox, finds no listener for plain HTTP at the provider host', async () => {
    const api = new SimulatedCredentialApi(loadFleetFile('examples/trading-fleet.yaml'));

    await expect(api.request({ method: 'GET', url: 'http://credentials.xlon.example.com/api/session', timeoutMs: 1_000 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await expect(api.request({ method: 'GET', url: 'https://credentials.xlon.example.com/api/session', timeoutMs: 1_000 })).resolves.toMatchObject({
      status: 401,
    });
  });
});
