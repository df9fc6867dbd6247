import { randomBytes } from 'node:crypto';
import { SapphireError } from '../core/errors.ts';

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HASH_PREFIX = /^[0-9a-f]{4,64}$/;

/** Throws a BAD_INPUT error unless `name` can name a dataset (letters, digits, `-`, `_`, `.`; at most 64). */
export function checkDatasetName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !DATASET_NAME.test(name)) {
    throw new SapphireError('BAD_INPUT', `invalid dataset name ${JSON.stringify(name)}`, {
      path: 'name',
      hint: 'use letters, digits, "-", "_" or "." (at most 64 characters, starting with a letter or digit), e.g. wnut17',
    });
  }
}

/** The id of a dataset version: `name@<first 12 hex chars of its content hash>`. */
export function datasetVersionId(name: string, hash: string): string {
  return `${name}@${hash.slice(0, 12)}`;
}

/** A parsed dataset reference: a name alone (newest version) or a name with a hash prefix. */
export interface DatasetRef {
  name: string;
  /** Lowercase hex prefix of the content hash (4 to 64 chars), or null for "newest". */
  prefix: string | null;
}

/**
 * Parses `name` or `name@<hex prefix>` (at least 4 hex chars; a full id is a 12-char prefix).
 *
 * @example
 * parseDatasetRef('wnut17@3f9a'); // { name: 'wnut17', prefix: '3f9a' }
 */
export function parseDatasetRef(ref: string): DatasetRef {
  if (typeof ref !== 'string' || ref.trim() === '') {
    throw new SapphireError('BAD_INPUT', `invalid dataset reference ${JSON.stringify(ref)}`, {
      hint: 'use a dataset name (newest version) or name@<hash prefix>, as listed by `sapphire data ls`',
    });
  }
  const at = ref.indexOf('@');
  if (at < 0) return { name: ref.trim(), prefix: null };
  const name = ref.slice(0, at).trim();
  const prefix = ref
    .slice(at + 1)
    .trim()
    .toLowerCase();
  if (!HASH_PREFIX.test(prefix)) {
    throw new SapphireError(
      'BAD_INPUT',
      `invalid version "${ref}": the part after @ must be 4 to 64 hex characters`,
      {
        hint: 'use name@<hash prefix> with at least 4 characters of the hash, as listed by `sapphire data ls`',
      },
    );
  }
  return { name, prefix };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * A new run id, sortable by start time: `r-<yyyyMMddHHmmss UTC>-<6 random hex>`.
 *
 * @example
 * newRunId(new Date('2024-05-01T12:00:00Z')); // 'r-20240501120000-a1b2c3'
 */
export function newRunId(now: Date = new Date()): string {
  const stamp =
    `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}` +
    `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}
