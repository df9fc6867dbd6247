import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import { type ArtifactStore, checkHash, sha256Hex, verifyContent } from './artifacts.ts';

/** Where an `s3://bucket/prefix` URI points. */
export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket root). */
  prefix: string;
}

/** How to reach an S3-compatible service; unset fields come from the AWS SDK's usual environment. */
export interface S3Options {
  /** Endpoint URL of an S3-compatible service (MinIO, Ceph, s3rver); default `SAPPHIRE_S3_ENDPOINT` or AWS. */
  endpoint?: string;
  /** Region (default `AWS_REGION`, else `us-east-1`). */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted services need; default true with an endpoint. */
  forcePathStyle?: boolean;
  /** Credentials; default: the SDK's chain (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Parses `s3://bucket/optional/prefix`, refusing anything else with a clear error. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(uri);
  if (!match) {
    throw new SapphireError('CONFIG_INVALID', `"${uri}" is not an S3 artifacts location`, {
      hint: 'use s3://bucket or s3://bucket/prefix (bucket names: 3-63 lowercase letters, digits, dots, hyphens)',
    });
  }
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: match[1] as string, prefix };
}

/** S3 client options from explicit settings and the environment (`SAPPHIRE_S3_ENDPOINT`, `SAPPHIRE_S3_PATH_STYLE`). */
export function s3ClientOptions(options: S3Options = {}) {
  const endpoint = options.endpoint ?? (process.env.SAPPHIRE_S3_ENDPOINT || undefined);
  const pathStyleEnv = process.env.SAPPHIRE_S3_PATH_STYLE;
  const forcePathStyle =
    options.forcePathStyle ?? (pathStyleEnv ? pathStyleEnv !== 'false' : endpoint !== undefined);
  return {
    endpoint,
    forcePathStyle,
    region: options.region ?? (process.env.AWS_REGION || 'us-east-1'),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * A content-addressed blob store in an S3-compatible bucket: `<prefix>/<first 2 hex>/<sha256>`, the same layout
 * as {@link ArtifactFolder}. A PUT is atomic per object (readers see the old object or the whole new one, never a
 * partial one), and the upload carries its SHA-256 so the service rejects a body damaged in transit.
 *
 * @example
 * const s3 = new S3Artifacts('s3://models/sapphire', { endpoint: 'http://127.0.0.1:9000' });
 * const hash = await s3.put(new TextEncoder().encode('hello'));
 */
export class S3Artifacts implements ArtifactStore {
  readonly root: string;
  private readonly location: S3Location;
  private readonly client: S3Client;

  constructor(uri: string, options: S3Options = {}) {
    this.location = parseS3Uri(uri);
    this.root = `s3://${this.location.bucket}${this.location.prefix ? `/${this.location.prefix}` : ''}`;
    this.client = new S3Client(s3ClientOptions(options));
  }

  private key(hash: string): string {
    checkHash(hash);
    const key = `${hash.slice(0, 2)}/${hash}`;
    return this.location.prefix ? `${this.location.prefix}/${key}` : key;
  }

  pathOf(hash: string): string {
    return `s3://${this.location.bucket}/${this.key(hash)}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes);
    const Key = this.key(hash);
    const Bucket = this.location.bucket;
    try {
      const head = await this.head(Key);
      if (head && head.ContentLength === bytes.length) return hash;
      await this.client.send(
        new PutObjectCommand({
          Bucket,
          Key,
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: 'application/octet-stream',
          ChecksumSHA256: Buffer.from(hash, 'hex').toString('base64'),
        }),
      );
    } catch (err) {
      throw this.error('write', hash, err);
    }
    return hash;
  }

  async get(hash: string): Promise<Uint8Array> {
    const Key = this.key(hash);
    let bytes: Uint8Array;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key }));
      bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (err) {
      if (statusOf(err) === 404 || (err as { name?: string }).name === 'NoSuchKey') {
        throw new NotFoundError(`artifact ${hash} is missing from ${this.root}`, {
          file: this.pathOf(hash),
          hint: 'check that the store points at the right artifacts location (--artifacts / SAPPHIRE_ARTIFACTS)',
        });
      }
      throw this.error('read', hash, err);
    }
    verifyContent(hash, bytes, this.pathOf(hash));
    return bytes;
  }

  async delete(hash: string): Promise<number> {
    const Key = this.key(hash);
    const Bucket = this.location.bucket;
    try {
      const head = await this.head(Key);
      if (!head) return 0;
      await this.client.send(new DeleteObjectCommand({ Bucket, Key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      throw this.error('delete', hash, err);
    }
  }

  /** Closes the HTTP connections of the client. */
  close(): void {
    this.client.destroy();
  }

  /** The object's metadata, or null when there is no object under `Key`. */
  private head(Key: string): Promise<HeadObjectCommandOutput | null> {
    return this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key })).catch((err) => {
      if (statusOf(err) === 404) return null;
      throw err;
    });
  }

  private error(what: string, hash: string, err: unknown): SapphireError {
    return new SapphireError(
      'STORE_ERROR',
      `cannot ${what} artifact ${hash} in ${this.root}: ${(err as Error).message}`,
      {
        file: this.pathOf(hash),
        hint: 'check the bucket exists, the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the endpoint (SAPPHIRE_S3_ENDPOINT)',
        cause: err,
      },
    );
  }
}
