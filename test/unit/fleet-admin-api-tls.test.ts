import { X509Certificate } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetFileError, type Fleet } from '../../lib/fleet/fleet';
import { adminApiTransportSchema } from '../../lib/fleet/fleet-schema';
import { loadFleetFile, parseFleetYaml } from '../../lib/fleet/fleet-file';

const TRADING_CA = readFileSync('examples/certs/trading-ca.pem', 'utf8');
const TEST_CA = readFileSync('test/fixtures/tls/test-ca.pem', 'utf8');
/** A server certificate (CA:FALSE): not something to trust as an issuer. */
const LEAF = readFileSync('test/fixtures/tls/localhost.pem', 'utf8');

/** A fleet file with one trading service (health checks on 8080), its halt settings `adminApi` (YAML, indented for halt) and secrets. */
const fleetText = (adminApi: string, { adminPort, secrets = '' }: { adminPort?: number; secrets?: string } = {}): string => `
environment: staging
cluster: trading-staging
network: { vpcId: vpc-0a1b2c3d, subnetIds: [subnet-0a1b2c3d], securityGroupIds: [sg-0a1b2c3d] }
halt:
  adminTokenSecret: staging/admin-api-token
${adminApi}
${secrets}
services:
  order-gateway:
    imageRepository: 111122223333.dkr.ecr.eu-west-2.amazonaws.com/order-gateway
    role: trading
    capacity: { desired: 2, min: 1, max: 4 }
    executionRoleName: order-gateway-execution
    health: { http: { path: /health/deep, port: 8080 } }
${adminPort === undefined ? '' : `    halt: { mode: soft, adminPort: ${adminPort} }\n`}`;

/** Writes the fleet file (and any files beside it) into a fresh directory and loads it, as `assure` and `cdk synth` do. */
function load(text: string, files: Record<string, string> = {}): Fleet {
  const directory = mkdtempSync(join(tmpdir(), 'assure-fleet-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(directory, name, '..'), { recursive: true });
    writeFileSync(join(directory, name), content);
  }
  writeFileSync(join(directory, 'fleet.yaml'), text);
  return loadFleetFile(join(directory, 'fleet.yaml'));
}

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FleetFileError);
    return [...(error as FleetFileError).issues];
  }
  throw new Error('expected the fleet file to be rejected');
}

const https = (caBundle: string, serverName = 'admin.trading.internal') => `  adminApi: { scheme: https, caBundle: ${caBundle}, serverName: ${serverName} }`;

describe('fleet file: the admin API transport (halt.adminApi)', () => {
  it("reads the example fleet's CA bundle relative to the fleet file and carries the PEM itself", () => {
    const fleet = loadFleetFile('examples/trading-fleet.yaml');
    const api = fleet.halt?.adminApi;
    expect(api).toMatchObject({ scheme: 'https', serverName: 'admin.trading.internal' });
    if (api?.scheme !== 'https') throw new Error('https expected');
    expect(new X509Certificate(api.caBundle).fingerprint256).toBe(new X509Certificate(TRADING_CA).fingerprint256);
    // https's own port, away from the health checks' plain HTTP on 8080; order-gateway names its own.
    expect(fleet.services['market-data']?.halt?.adminPort).toBe(8443);
    expect(fleet.services['order-gateway']?.halt?.adminPort).toBe(8081);
  });

  it('refuses plain HTTP unless allowPlainHttpInVpc is set, naming the field', () => {
    const issues = issuesOf(() => load(fleetText('  adminApi: { scheme: http }')));
    expect(issues).toEqual([
      {
        path: 'halt.adminApi.scheme',
        message:
          'http sends the admin bearer token in cleartext: use https with caBundle, or set halt.adminApi.allowPlainHttpInVpc: true to allow plain HTTP inside the VPC',
      },
    ]);
    expect(issuesOf(() => load(fleetText('  adminApi: { scheme: http, allowPlainHttpInVpc: false }')))[0]?.path).toBe('halt.adminApi.scheme');
  });

  it('calls over plain HTTP on the health port only when the fleet allows it inside the VPC', () => {
    const fleet = load(fleetText('  adminApi: { scheme: http, allowPlainHttpInVpc: true }'));
    expect(fleet.halt?.adminApi).toEqual({ scheme: 'http', allowPlainHttpInVpc: true });
    expect(fleet.services['order-gateway']?.halt?.adminPort).toBe(8080);
  });

  it('is https by default, and https needs a CA bundle', () => {
    expect(issuesOf(() => load(fleetText('')))).toEqual([
      { path: 'halt.adminApi.caBundle', message: 'https needs the CA bundle (a PEM file relative to the fleet file) that issues the admin API certificates' },
    ]);
  });

  it('refuses TLS settings with plain HTTP', () => {
    const issues = issuesOf(() => load(fleetText('  adminApi: { scheme: http, allowPlainHttpInVpc: true, caBundle: ca.pem, serverName: admin.internal }')));
    expect(issues).toEqual([
      { path: 'halt.adminApi.caBundle', message: 'is used only with scheme: https' },
      { path: 'halt.adminApi.serverName', message: 'is used only with scheme: https' },
    ]);
  });

  it('names the CA bundle file and the reason when it cannot be used', () => {
    const [missing] = issuesOf(() => load(fleetText(https('certs/missing.pem'))));
    expect(missing?.path).toBe('halt.adminApi.caBundle');
    expect(missing?.message).toMatch(/^certs\/missing\.pem \(\/.+\/certs\/missing\.pem\) cannot be read: ENOENT/);

    expect(issuesOf(() => load(fleetText(https('ca.pem')), { 'ca.pem': 'not a certificate\n' }))[0]?.message).toMatch(
      /^ca\.pem \(.+\) holds no PEM certificate \(-----BEGIN CERTIFICATE-----\)$/,
    );
    expect(issuesOf(() => load(fleetText(https('ca.pem')), { 'ca.pem': LEAF }))[0]?.message).toMatch(
      /^ca\.pem \(.+\): its certificate \(CN=localhost\) is not a CA certificate \(basicConstraints CA:FALSE\)$/,
    );
    const corrupt = '-----BEGIN CERTIFICATE-----\nMIIBnotacertificate\n-----END CERTIFICATE-----\n';
    expect(issuesOf(() => load(fleetText(https('ca.pem')), { 'ca.pem': `${TRADING_CA}${corrupt}` }))[0]?.message).toMatch(
      /^ca\.pem \(.+\): certificate 2 is not a valid X\.509 certificate/,
    );
  });

  it("keeps every certificate of a bundle, resolved against the fleet file's directory", () => {
    const fleet = load(fleetText(https('pki/bundle.pem')), { 'pki/bundle.pem': `${TRADING_CA}\n${TEST_CA}` });
    const api = fleet.halt?.adminApi;
    if (api?.scheme !== 'https') throw new Error('https expected');
    expect(api.caBundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('refuses an https admin API on the port the health checks call over plain HTTP', () => {
    expect(issuesOf(() => load(fleetText(https('ca.pem'), { adminPort: 8080 }), { 'ca.pem': TRADING_CA }))).toEqual([
      {
        path: 'services.order-gateway.halt.adminPort',
        message:
          'the admin API is served over https (halt.adminApi) and the health checks call port 8080 over plain HTTP (health.http.port): give the admin API a port of its own',
      },
    ]);
  });

  it('needs the PEM itself when the document is read without its file', () => {
    expect(issuesOf(() => parseFleetYaml(fleetText(https('ca.pem')), 'inline.yaml'))[0]?.message).toBe(
      'ca.pem: a fleet document read without its file cannot resolve a relative path; give the PEM itself',
    );
    const inline = `  adminApi:\n    caBundle: |\n${TRADING_CA.trim().replace(/^/gm, '      ')}\n`;
    expect(parseFleetYaml(fleetText(inline), 'inline.yaml').halt?.adminApi).toMatchObject({ scheme: 'https' });
  });

  it('resolves to a setting that is itself a valid fleet-file setting (the functions re-read the resolved fleet)', () => {
    const api = loadFleetFile('examples/trading-fleet.yaml').halt?.adminApi;
    expect(adminApiTransportSchema.parse(api)).toEqual(api);
  });
});

describe('fleet file: downstream credential APIs', () => {
  const downstream = (url: string) => `secrets:
  venue-password:
    name: staging/venue-password
    kind: downstream
    variable: VENUE_PASSWORD
    provider: { type: http-credential-api, url: "${url}", username: ASSURE01 }
`;

  it('refuses a credential API that is not https, naming the field', () => {
    const issues = issuesOf(() =>
      load(fleetText(https('ca.pem'), { secrets: downstream('http://credentials.venue.example.com/api') }), { 'ca.pem': TRADING_CA }),
    );
    expect(issues).toEqual([{ path: 'secrets.venue-password.provider.url', message: 'must be an https URL: the credential API receives passwords' }]);
  });

  it('accepts an https credential API', () => {
    const fleet = load(fleetText(https('ca.pem'), { secrets: downstream('https://credentials.venue.example.com/api') }), { 'ca.pem': TRADING_CA });
    expect(fleet.secrets['venue-password']).toMatchObject({ provider: { url: 'https://credentials.venue.example.com/api' } });
  });
});

describe('the fleet the functions read (bundled fleet.json)', () => {
  it('is the resolved fleet as plain JSON: it reads back the same, CA bundle included, with no file to resolve', () => {
    const fleet = loadFleetFile('examples/trading-fleet.yaml');

    const bundled: unknown = JSON.parse(JSON.stringify(fleet));

    expect(bundled).toEqual(fleet);
    expect((bundled as Fleet).halt?.adminApi).toMatchObject({ scheme: 'https', caBundle: expect.stringContaining('-----BEGIN CERTIFICATE-----') as unknown });
  });
});
