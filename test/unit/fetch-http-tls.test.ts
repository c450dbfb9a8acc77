import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHttp } from '../../functions/shared/runtime/http';

/** test/fixtures/tls: a test CA, and a certificate it issued for localhost, 127.0.0.1 and admin.test.internal. */
const TEST_CA = readFileSync('test/fixtures/tls/test-ca.pem', 'utf8');
const OTHER_CA = readFileSync('examples/certs/trading-ca.pem', 'utf8');

interface Received {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: string;
  readonly servername: string | false | null;
}

let server: Server;
let port: number;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer(
    { cert: readFileSync('test/fixtures/tls/localhost.pem'), key: readFileSync('test/fixtures/tls/localhost-key.pem') },
    (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          method: request.method ?? '',
          path: request.url ?? '',
          authorization: request.headers.authorization,
          body: Buffer.concat(chunks).toString('utf8'),
          servername: (request.socket as TLSSocket).servername,
        });
        if (request.url === '/slow') return; // never answers
        response.writeHead(202, { 'content-type': 'application/json' }).end('{"halted":true}');
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const url = (path: string) => `https://127.0.0.1:${port}${path}`;

describe('fetchHttp over https with a CA bundle', () => {
  it('verifies the server against the bundle and sends the request, headers and body', async () => {
    const response = await fetchHttp({
      method: 'POST',
      url: url('/admin/halt'),
      headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' },
      body: '{"haltId":"h-1"}',
      timeoutMs: 5_000,
      tls: { ca: TEST_CA },
    });

    expect(response).toEqual({ status: 202, body: '{"halted":true}' });
    expect(received.at(-1)).toMatchObject({ method: 'POST', path: '/admin/halt', authorization: 'Bearer t0ken', body: '{"haltId":"h-1"}' });
  });

  it('verifies the certificate for serverName, sent as SNI, while connecting to the IP', async () => {
    const response = await fetchHttp({ method: 'GET', url: url('/admin/status'), timeoutMs: 5_000, tls: { ca: TEST_CA, serverName: 'admin.test.internal' } });

    expect(response.status).toBe(202);
    expect(received.at(-1)?.servername).toBe('admin.test.internal');
  });

  it('refuses a server whose certificate no CA of the bundle issued, before sending anything', async () => {
    const before = received.length;

    await expect(
      fetchHttp({ method: 'POST', url: url('/admin/halt'), headers: { authorization: 'Bearer t0ken' }, timeoutMs: 5_000, tls: { ca: OTHER_CA } }),
    ).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(received.length).toBe(before);
  });

  it('refuses a certificate issued for another name', async () => {
    await expect(
      fetchHttp({ method: 'GET', url: url('/admin/status'), timeoutMs: 5_000, tls: { ca: TEST_CA, serverName: 'admin.other.internal' } }),
    ).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('does not fall back to the public CAs without a bundle: the private CA is not among them', async () => {
    await expect(fetchHttp({ method: 'GET', url: url('/admin/status'), timeoutMs: 5_000 })).rejects.toThrow();
  });

  it('takes a CA bundle for https URLs only', async () => {
    await expect(fetchHttp({ method: 'GET', url: `http://127.0.0.1:${port}/admin/status`, timeoutMs: 5_000, tls: { ca: TEST_CA } })).rejects.toThrow(
      'A CA bundle is for https only, not http:',
    );
  });

  it('gives up after timeoutMs with a TimeoutError, as fetch does', async () => {
    await expect(fetchHttp({ method: 'GET', url: url('/slow'), timeoutMs: 200, tls: { ca: TEST_CA } })).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
