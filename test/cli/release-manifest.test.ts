/** Release manifests: YAML or JSON, known services, digest references of each service's own repository; every error names the field. */
import { describe, expect, it } from 'vitest';
import { loadFleetFile } from '../../lib/fleet/fleet-file';
import { manifestReleaseInput } from '../../lib/cli/commands/release';
import { loadManifest, parseManifest, ReleaseManifestError } from '../../lib/cli/release-manifest';

const fleet = loadFleetFile('examples/trading-fleet.yaml');
const repo = (service: string): string => `111122223333.dkr.ecr.eu-west-2.amazonaws.com/${service}`;
const digest = (c: string): string => `sha256:${c.repeat(64)}`;

function refusal(text: string): string {
  try {
    parseManifest(text, fleet, 'release.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ReleaseManifestError);
    return (error as Error).message;
  }
  throw new Error('the manifest was accepted');
}

describe('release manifests', () => {
  it('accept YAML and JSON, and order the services by dependency', () => {
    const yaml = parseManifest(
      `services:\n  order-gateway: ${repo('order-gateway')}@${digest('b')}\n  market-data: ${repo('market-data')}@${digest('a')}\nreason: fleet release 2026.01\n`,
      fleet,
    );
    expect(Object.keys(yaml.services)).toEqual(['market-data', 'order-gateway']);
    expect(yaml.reason).toBe('fleet release 2026.01');
    const json = parseManifest(JSON.stringify({ services: { 'risk-engine': `${repo('risk-engine')}@${digest('c')}` } }), fleet);
    expect(json).toEqual({ services: { 'risk-engine': `${repo('risk-engine')}@${digest('c')}` } });
  });

  it('becomes the release workflow input of the contract', () => {
    const manifest = parseManifest(JSON.stringify({ services: { 'risk-engine': `${repo('risk-engine')}@${digest('c')}` }, reason: 'fix' }), fleet);
    expect(manifestReleaseInput(manifest, 'alice')).toEqual({
      services: { 'risk-engine': `${repo('risk-engine')}@${digest('c')}` },
      requestedBy: 'alice',
      reason: 'fix',
      source: { type: 'manifest' },
    });
    expect(manifestReleaseInput(manifest, 'alice', 'override').reason).toBe('override');
  });

  it('refuse a service the fleet does not have, naming it and the known ones', () => {
    expect(refusal(`services:\n  pricing-engine: ${repo('pricing-engine')}@${digest('a')}\n`)).toMatch(
      /^release\.yaml: services\.pricing-engine: pricing-engine is not in the prod fleet \(known: .*order-gateway/,
    );
  });

  it('refuse a tag, a short digest, and another service repository', () => {
    expect(refusal(`services:\n  order-gateway: ${repo('order-gateway')}:3.3.0\n`)).toContain(
      'services.order-gateway: must be a digest reference 111122223333.dkr.ecr.eu-west-2.amazonaws.com/order-gateway@sha256:<64 hex>',
    );
    expect(refusal(`services:\n  order-gateway: ${repo('order-gateway')}@sha256:abc\n`)).toContain('services.order-gateway: must be a digest reference');
    expect(refusal(`services:\n  order-gateway: ${repo('risk-engine')}@${digest('a')}\n`)).toContain(
      `services.order-gateway: must be an image of ${repo('order-gateway')}, got ${repo('risk-engine')}`,
    );
  });

  it('refuse a missing or empty services map, unknown keys, a non-string image, and name each field', () => {
    expect(refusal('reason: nothing\n')).toContain('services:');
    expect(refusal('services: {}\n')).toContain('services: must name at least one service');
    expect(refusal(`services:\n  market-data: ${repo('market-data')}@${digest('a')}\nwhen: now\n`)).toMatch(/\(manifest\): .*when/);
    expect(refusal('services:\n  market-data: 12\n')).toContain('services.market-data: must be an image reference');
    const several = refusal(`services:\n  pricing-engine: x\n  order-gateway: ${repo('order-gateway')}:1.0.0\n`);
    expect(several).toContain('release.yaml is not a valid release manifest:');
    expect(several).toContain('  - services.pricing-engine:');
    expect(several).toContain('  - services.order-gateway:');
  });

  it('refuse text that is not YAML, with the line, and a file that cannot be read', () => {
    expect(refusal('services:\n  a: [\n')).toMatch(/^release\.yaml: line \d+: /);
    expect(() => loadManifest('/nonexistent/release.yaml', fleet)).toThrow(/\/nonexistent\/release\.yaml: cannot be read/);
  });
});
