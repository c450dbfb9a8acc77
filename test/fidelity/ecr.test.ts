/**
 * The simulated ECR against the Amazon ECR User Guide ("Amazon ECR events and EventBridge":
 * the event for a completed image push) and the ECR API Reference (DescribeImages).
 */
import { describe, expect, it } from 'vitest';
import { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { SimulatedEcr } from '../../lib/sandbox/simulated-ecr';
import { fleetWith } from '../support/sandbox';

interface Emitted {
  readonly detailType: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

function ecr(): { ecr: SimulatedEcr; events: Emitted[] } {
  const events: Emitted[] = [];
  const registry = new SimulatedEcr(
    { account: '111122223333', region: 'eu-west-2', random: new SeededRandom(3) },
    fleetWith(),
    (detailType, resources, detail) => events.push({ detailType, resources, detail }),
  );
  return { ecr: registry, events };
}

async function refusal(registry: SimulatedEcr, input: Record<string, unknown>): Promise<SimulatedAwsError | undefined> {
  try {
    await registry.handle('DescribeImages', input);
    return undefined;
  } catch (error) {
    if (error instanceof SimulatedAwsError) return error;
    throw error;
  }
}

describe('ECR push event (User Guide: Event for a completed image push)', () => {
  it('sends detail-type ECR Image Action with result, repository-name, image-digest, action-type and image-tag, one event per tag', () => {
    const { ecr: registry, events } = ecr();
    const pushed = registry.push('order-gateway:latest');
    registry.push('order-gateway:1.2.3', { digest: pushed.digest });
    expect(events).toEqual([
      {
        detailType: 'ECR Image Action',
        resources: ['arn:aws:ecr:eu-west-2:111122223333:repository/order-gateway'],
        detail: { result: 'SUCCESS', 'repository-name': 'order-gateway', 'image-digest': pushed.digest, 'action-type': 'PUSH', 'image-tag': 'latest' },
      },
      {
        detailType: 'ECR Image Action',
        resources: ['arn:aws:ecr:eu-west-2:111122223333:repository/order-gateway'],
        detail: { result: 'SUCCESS', 'repository-name': 'order-gateway', 'image-digest': pushed.digest, 'action-type': 'PUSH', 'image-tag': '1.2.3' },
      },
    ]);
  });

  it("has one repository per fleet image repository, each holding the fleet's first image", () => {
    const { ecr: registry } = ecr();
    expect(registry.repositories().map((r) => r.repositoryName)).toContain('order-gateway');
    const [image] = registry.imagesOf('order-gateway');
    expect(image?.imageTags).toEqual(['1.0.0']);
    expect(image?.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('DescribeImages (API Reference: DescribeImages)', () => {
  it('finds images by tag or digest with their digest, tags and push time', async () => {
    const { ecr: registry } = ecr();
    const pushed = registry.push('order-gateway:1.4.0');
    const byTag = (await registry.handle('DescribeImages', { repositoryName: 'order-gateway', imageIds: [{ imageTag: '1.4.0' }] })) as {
      imageDetails: Record<string, unknown>[];
    };
    expect(byTag.imageDetails).toHaveLength(1);
    expect(byTag.imageDetails[0]).toMatchObject({
      registryId: '111122223333',
      repositoryName: 'order-gateway',
      imageDigest: pushed.digest,
      imageTags: ['1.4.0'],
    });
    expect(byTag.imageDetails[0]?.imagePushedAt).toBeInstanceOf(Date);
    const byDigest = registry.describeImages({ repositoryName: 'order-gateway', imageIds: [{ imageDigest: pushed.digest }] });
    expect(byDigest.imageDetails.map((d) => d.imageDigest)).toEqual([pushed.digest]);
    expect(registry.describeImages({ repositoryName: 'order-gateway' }).imageDetails).toHaveLength(2);
  });

  it('lists an image whose only tag moved as untagged (no imageTags)', () => {
    const { ecr: registry } = ecr();
    const first = registry.push('order-gateway:2.0.0');
    registry.push('order-gateway:2.0.0');
    const untagged = registry.describeImages({ repositoryName: 'order-gateway', filter: { tagStatus: 'UNTAGGED' } }).imageDetails;
    expect(untagged.map((d) => d.imageDigest)).toEqual([first.digest]);
    expect(untagged[0]).not.toHaveProperty('imageTags');
  });

  it('answers RepositoryNotFoundException, ImageNotFoundException and InvalidParameterException as ECR does', async () => {
    const { ecr: registry } = ecr();
    const missingRepository = await refusal(registry, { repositoryName: 'billing' });
    expect(missingRepository?.code).toBe('RepositoryNotFoundException');
    expect(missingRepository?.message).toBe("The repository with name 'billing' does not exist in the registry with id '111122223333'");
    const missingImage = await refusal(registry, { repositoryName: 'order-gateway', imageIds: [{ imageTag: '9.9.9' }] });
    expect(missingImage?.code).toBe('ImageNotFoundException');
    expect(missingImage?.message).toContain("imageTag:'9.9.9'");
    expect((await refusal(registry, { repositoryName: 'order-gateway', imageIds: [{ imageTag: '1.0.0' }], maxResults: 5 }))?.code).toBe(
      'InvalidParameterException',
    );
    expect((await refusal(registry, { repositoryName: 'order-gateway', registryId: '444455556666' }))?.code).toBe('RepositoryNotFoundException');
  });
});
