import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): the first 48 bits are the Unix time in ms, the rest random (74 bits, from
 * `randomUUID`'s pooled entropy). Request ids sort by time, so the prediction log's primary key (tenant,
 * request_id, item) grows at its end instead of at a random page of an ever larger index.
 *
 * @example
 * timeOrderedUuid(); // '0193a4f2-9c1e-7b3d-8f21-5c0e9a7d4b12'
 */
export function timeOrderedUuid(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // randomUUID() is 'xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx': keep its variant and random tail, set version 7.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
