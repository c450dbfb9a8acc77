/**
 * Amazon ECR for the fleet's images: one private repository per `imageRepository` URI of
 * the fleet file (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`), each holding the
 * image the fleet starts on (tag 1.0.0).
 *
 * A push stores a new image under a new digest (`sha256:` + 64 hex digits from the
 * account's seeded random) or, given an existing digest, tags that image again; a tag
 * moves to the pushed digest, and an image left without tags becomes untagged. Each push
 * of a tag emits, as ECR does ("ECR events and EventBridge", Amazon ECR User Guide), one
 * `ECR Image Action` event from `aws.ecr`: detail `{result: 'SUCCESS', 'repository-name',
 * 'image-digest', 'action-type': 'PUSH', 'image-tag'}`. The same digest pushed under two
 * tags gives two events. (The guide's sample event has empty `resources`; the sandbox puts
 * the repository ARN there, as Assure's contract with its push rule says, so nothing may
 * depend on either.)
 *
 * `DescribeImages` answers as the ECR API Reference documents it (imageIds by tag or
 * digest, a tagStatus filter; RepositoryNotFoundException, ImageNotFoundException,
 * InvalidParameterException).
 */
import { createHash } from 'node:crypto';
import type { Fleet } from '../fleet/fleet';
import { SimulatedAwsError } from './aws-error';
import type { SeededRandom } from './deterministic';
import { INITIAL_IMAGE_TAG } from './fleet-world';
import type { SimulatedService } from './sdk-transport';

export interface EcrRepository {
  readonly repositoryName: string;
  readonly repositoryUri: string;
  readonly repositoryArn: string;
  readonly registryId: string;
  readonly region: string;
}

export interface EcrImage {
  readonly imageDigest: string;
  /** Most recent tag last. */
  imageTags: string[];
  imagePushedAt: number;
  readonly imageSizeInBytes: number;
}

export interface EcrPush {
  /** The repository's name (e.g. `order-gateway`). */
  readonly repository: string;
  readonly repositoryUri: string;
  readonly tag: string;
  /** `sha256:<64 hex>`. */
  readonly digest: string;
  /** What to deploy: `<repositoryUri>@<digest>`. */
  readonly image: string;
}

export interface EcrSnapshot {
  readonly images: [string, EcrImage[]][];
}

export type EcrEventSink = (detailType: string, resources: readonly string[], detail: Record<string, unknown>) => void;

/** Docker's tag grammar (ECR accepts up to 300 characters, Docker clients 128). */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REPOSITORY_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/;
const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const ARTIFACT_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json';

export class SimulatedEcr implements SimulatedService {
  private readonly repos = new Map<string, EcrRepository>();
  private readonly images = new Map<string, EcrImage[]>();

  constructor(
    private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom },
    fleet: Fleet,
    private readonly emit: EcrEventSink,
  ) {
    const seededAt = Date.now();
    for (const service of Object.values(fleet.services)) {
      const repository = this.repositoryOf(service.imageRepository);
      if (this.repos.has(repository.repositoryName)) continue;
      this.repos.set(repository.repositoryName, repository);
      // The image the fleet starts on; its digest is derived, so seeding draws nothing from the account's random.
      const digest = `sha256:${createHash('sha256').update(`${repository.repositoryUri}:${INITIAL_IMAGE_TAG}`).digest('hex')}`;
      this.images.set(repository.repositoryName, [
        { imageDigest: digest, imageTags: [INITIAL_IMAGE_TAG], imagePushedAt: seededAt, imageSizeInBytes: imageSize(digest) },
      ]);
    }
  }

  repositories(): EcrRepository[] {
    return [...this.repos.values()];
  }

  /** A repository by name or URI. */
  repository(nameOrUri: string): EcrRepository | undefined {
    return this.repos.get(nameOrUri) ?? [...this.repos.values()].find((r) => r.repositoryUri === nameOrUri);
  }

  /** The repository's images, oldest push first. */
  imagesOf(repositoryName: string): readonly EcrImage[] {
    return this.images.get(repositoryName) ?? [];
  }

  /** The digest an image reference (`<uri>:<tag>` or `<uri>@sha256:...`) names now, if the registry holds it. */
  resolve(image: string): string | undefined {
    const at = image.indexOf('@');
    const [uri, tag] = at >= 0 ? [image.slice(0, at), undefined] : splitTag(image);
    const repository = this.repository(uri);
    if (!repository) return undefined;
    const images = this.imagesOf(repository.repositoryName);
    if (at >= 0) return images.find((i) => i.imageDigest === image.slice(at + 1))?.imageDigest;
    return images.find((i) => tag !== undefined && i.imageTags.includes(tag))?.imageDigest;
  }

  /**
   * Pushes `name:tag` (a fleet repository by name) or `<repository URI>:tag`: a new image with a
   * new digest, or `options.digest`'s image tagged again. Emits the `ECR Image Action` event.
   */
  push(ref: string, options: { readonly digest?: string } = {}): EcrPush {
    const [target, tag] = splitTag(ref);
    if (tag === undefined) throw new Error(`Push what tag? Give the image as <repository>:<tag>, not ${ref}`);
    if (!TAG.test(tag)) throw new Error(`${tag} is not a valid image tag (letters, digits, _ . -; at most 128 characters, not starting with . or -)`);
    const repository = this.repository(target);
    if (!repository) {
      throw new Error(`No ECR repository ${target} in this sandbox: the fleet's repositories are ${[...this.repos.keys()].join(', ')}`);
    }
    const images = this.images.get(repository.repositoryName) ?? [];
    this.images.set(repository.repositoryName, images);
    let image: EcrImage | undefined;
    if (options.digest !== undefined) {
      if (!DIGEST.test(options.digest)) throw new Error(`${options.digest} is not an image digest (sha256:<64 hex digits>)`);
      image = images.find((i) => i.imageDigest === options.digest);
      if (!image) throw new Error(`${repository.repositoryName} holds no image ${options.digest} to tag again`);
    } else {
      const digest = `sha256:${this.context.random.hex(64)}`;
      image = { imageDigest: digest, imageTags: [], imagePushedAt: Date.now(), imageSizeInBytes: imageSize(digest) };
      images.push(image);
    }
    // The tag moves: the image that had it loses it (and is untagged if it had no other).
    for (const other of images) if (other !== image) other.imageTags = other.imageTags.filter((t) => t !== tag);
    image.imageTags = [...image.imageTags.filter((t) => t !== tag), tag];
    image.imagePushedAt = Date.now();
    this.emit('ECR Image Action', [repository.repositoryArn], {
      result: 'SUCCESS',
      'repository-name': repository.repositoryName,
      'image-digest': image.imageDigest,
      'action-type': 'PUSH',
      'image-tag': tag,
    });
    return {
      repository: repository.repositoryName,
      repositoryUri: repository.repositoryUri,
      tag,
      digest: image.imageDigest,
      image: `${repository.repositoryUri}@${image.imageDigest}`,
    };
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'DescribeImages':
        return this.describeImages(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement ECR ${operation}`);
    }
  }

  describeImages(input: Record<string, unknown>): { imageDetails: Record<string, unknown>[] } {
    const name = input.repositoryName;
    if (typeof name !== 'string' || name.length < 2 || name.length > 256) {
      throw new SimulatedAwsError(
        'InvalidParameterException',
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy constraint: [Member must have length between 2 and 256]'`,
      );
    }
    const registryId = typeof input.registryId === 'string' ? input.registryId : this.context.account;
    const repository = this.repos.get(name);
    if (!repository || repository.registryId !== registryId) {
      throw new SimulatedAwsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
    }
    const ids = input.imageIds as { imageDigest?: string; imageTag?: string }[] | undefined;
    if (ids !== undefined && input.maxResults !== undefined) {
      throw new SimulatedAwsError('InvalidParameterException', 'maxResults cannot be specified together with imageIds');
    }
    const images = this.imagesOf(name);
    let found: readonly EcrImage[];
    if (ids !== undefined) {
      found = ids.map((id) => {
        const image = images.find(
          (i) => (id.imageDigest === undefined || i.imageDigest === id.imageDigest) && (id.imageTag === undefined || i.imageTags.includes(id.imageTag)),
        );
        if (!image || (id.imageDigest === undefined && id.imageTag === undefined)) {
          throw new SimulatedAwsError(
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${name}' in the registry with id '${registryId}'`,
          );
        }
        return image;
      });
      found = [...new Set(found)];
    } else {
      const status = (input.filter as { tagStatus?: string } | undefined)?.tagStatus ?? 'ANY';
      if (!['TAGGED', 'UNTAGGED', 'ANY'].includes(status)) {
        throw new SimulatedAwsError('InvalidParameterException', `Invalid parameter at 'filter.tagStatus': must be one of TAGGED, UNTAGGED, ANY`);
      }
      found = images.filter((i) => status === 'ANY' || (status === 'TAGGED') === i.imageTags.length > 0);
    }
    return {
      imageDetails: found.map((i) => ({
        registryId: repository.registryId,
        repositoryName: name,
        imageDigest: i.imageDigest,
        ...(i.imageTags.length > 0 ? { imageTags: [...i.imageTags] } : {}),
        imageSizeInBytes: i.imageSizeInBytes,
        imagePushedAt: new Date(i.imagePushedAt),
        imageManifestMediaType: MANIFEST_MEDIA_TYPE,
        artifactMediaType: ARTIFACT_MEDIA_TYPE,
      })),
    };
  }

  snapshot(): EcrSnapshot {
    return { images: [...this.images].map(([name, images]) => [name, images.map((i) => ({ ...i, imageTags: [...i.imageTags] }))]) };
  }

  restore(snapshot: EcrSnapshot): void {
    for (const [name, images] of snapshot.images)
      if (this.repos.has(name))
        this.images.set(
          name,
          images.map((i) => ({ ...i, imageTags: [...i.imageTags] })),
        );
  }

  private repositoryOf(uri: string): EcrRepository {
    const match = REPOSITORY_URI.exec(uri);
    const [registryId, region, name] = match ? [match[1] as string, match[2] as string, match[3] as string] : [this.context.account, this.context.region, uri];
    return {
      repositoryName: name,
      repositoryUri: match ? uri : `${registryId}.dkr.ecr.${region}.amazonaws.com/${name}`,
      repositoryArn: `arn:aws:ecr:${region}:${registryId}:repository/${name}`,
      registryId,
      region,
    };
  }
}

/** `[repository, tag]`: the tag is what follows the last `:` after the last `/` (a registry's port is not a tag). */
function splitTag(ref: string): [string, string | undefined] {
  const colon = ref.lastIndexOf(':');
  if (colon <= ref.lastIndexOf('/')) return [ref, undefined];
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

/** A plausible compressed image size, stable per digest. */
function imageSize(digest: string): number {
  return 40_000_000 + (parseInt(digest.slice(7, 13), 16) % 80_000_000);
}
