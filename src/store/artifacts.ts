import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotFoundError, SapphireError } from '../core/errors.ts';

/** sha256 (hex) of bytes or of a string's UTF-8 encoding. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * Where a store keeps its immutable, content-addressed blobs: a local or shared folder ({@link ArtifactFolder})
 * or an S3-compatible bucket (`S3Artifacts`). Every implementation verifies hashes on read.
 */
export interface ArtifactStore {
  /** The folder path or `s3://bucket/prefix` URI, for messages and the store's settings. */
  readonly root: string;
  /** Where the blob with this hash lives (a path or an `s3://` URI); throws on a malformed hash. */
  pathOf(hash: string): string;
  /** Stores bytes atomically (a no-op when an intact copy exists) and returns their sha256. */
  put(bytes: Uint8Array): Promise<string>;
  /** Reads a blob, checking its content hash. */
  get(hash: string): Promise<Uint8Array>;
  /** Removes a blob (a no-op when it is gone) and returns how many bytes it held. */
  delete(hash: string): Promise<number>;
  /** Releases connections (S3); folders have nothing to release. */
  close?(): void;
}

/**
 * A content-addressed folder of immutable blobs: `<root>/<first 2 hex>/<sha256>`.
 * Writes go to a temporary file in the target folder, are flushed to disk, then renamed into place,
 * so a crash never leaves a partial blob under a real name; reads verify the content hash.
 *
 * @example
 * const folder = new ArtifactFolder('.sapphire/artifacts');
 * const hash = await folder.put(new TextEncoder().encode('hello'));
 * const bytes = await folder.get(hash);
 */
export class ArtifactFolder implements ArtifactStore {
  /** @param root absolute path of the folder (created on first write). */
  constructor(readonly root: string) {}

  /** Where the blob with this hash lives (whether or not it exists). */
  pathOf(hash: string): string {
    checkHash(hash);
    return join(this.root, hash.slice(0, 2), hash);
  }

  /** Stores bytes (a no-op when an intact copy is already there) and returns their sha256. */
  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes);
    const target = this.pathOf(hash);
    const existing = await readFile(target).catch(() => null);
    if (existing && sha256Hex(existing) === hash) return hash;
    const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(target), { recursive: true });
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(bytes);
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new SapphireError(
        'STORE_ERROR',
        `cannot write artifact ${hash} under ${this.root}: ${(err as Error).message}`,
        {
          file: target,
          hint: `check that ${this.root} is a writable folder and the disk is not full`,
          cause: err,
        },
      );
    }
    return hash;
  }

  /** Removes a blob (a no-op when it is already gone) and returns how many bytes it held. */
  async delete(hash: string): Promise<number> {
    const path = this.pathOf(hash);
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    await rm(path, { force: true });
    return size;
  }

  /** Reads a blob, checking that its content still has the hash it is stored under. */
  async get(hash: string): Promise<Uint8Array> {
    const path = this.pathOf(hash);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError(`artifact ${hash} is missing from ${this.root}`, {
          file: path,
          hint: 'check that the store points at the right artifacts folder (SAPPHIRE_ARTIFACTS) or restore it from a backup',
        });
      }
      throw new SapphireError('STORE_ERROR', `cannot read artifact ${hash}: ${(err as Error).message}`, {
        file: path,
        hint: `check the permissions of ${this.root}`,
      });
    }
    verifyContent(hash, bytes, path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/** Whether an artifacts root names an S3 bucket (`s3://bucket/prefix`) rather than a folder. */
export function isS3Uri(root: string): boolean {
  return root.startsWith('s3://');
}

/** Refuses anything but a sha256 hex string as an artifact hash. */
export function checkHash(hash: string): void {
  if (typeof hash !== 'string' || !HASH.test(hash)) {
    throw new SapphireError('BAD_INPUT', `"${hash}" is not an artifact hash`, {
      hint: 'artifact hashes are 64 lowercase hex characters (sha256), as returned by putArtifact',
    });
  }
}

/** Throws when bytes read back under a hash do not hash to it (a corrupted or tampered blob). */
export function verifyContent(hash: string, bytes: Uint8Array, where: string): void {
  const actual = sha256Hex(bytes);
  if (actual !== hash) {
    throw new SapphireError('STORE_ERROR', `artifact ${hash} is corrupted: its content hashes to ${actual}`, {
      file: where,
      hint: 'restore the blob from a backup, or delete it and store the data again',
    });
  }
}
