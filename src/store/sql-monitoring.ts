import type { MonitoringStore, SketchBucket } from './serving-store.ts';
import {
  badInput,
  checkInteger,
  checkModelName,
  checkTenantId,
  checkText,
  checkTimestamp,
  isPlainObject,
  type SqlContext,
  writeInChunks,
} from './sql-common.ts';

const utc = (value: unknown, path: string): string => new Date(checkTimestamp(value, path)).toISOString();

function checkBucket(row: unknown, path: string): SketchBucket {
  if (!isPlainObject(row))
    throw badInput(
      `${path} must be an object`,
      path,
      'pass { tenant, model, version, bucket, replica, items, state }',
    );
  checkTenantId(row.tenant, `${path}.tenant`);
  checkModelName(row.model, `${path}.model`);
  checkInteger(row.version, `${path}.version`, 1, 'pass the version observed');
  checkText(row.replica, `${path}.replica`, 'pass the replica id');
  checkInteger(row.items, `${path}.items`, 0, 'pass the number of predictions observed');
  if (!isPlainObject(row.state))
    throw badInput(`${path}.state must be an object`, `${path}.state`, 'pass the serialised sketches');
  return {
    ...(row as unknown as SketchBucket),
    bucket: utc(row.bucket, `${path}.bucket`),
    updatedAt: utc(row.updatedAt ?? new Date().toISOString(), `${path}.updatedAt`),
  };
}

/** Monitoring sketches in the SQL store: one row per tenant, model, version, time bucket and replica. */
export class SqlMonitoringStore implements MonitoringStore {
  constructor(private readonly ctx: SqlContext) {}

  async putSketches(rows: readonly SketchBucket[]): Promise<void> {
    if (!Array.isArray(rows)) throw badInput('rows must be an array', 'rows', 'pass [{ tenant, model, … }]');
    const values = rows.map((r, i) => {
      const b = checkBucket(r, `rows[${i}]`);
      return {
        tenant: b.tenant,
        model: b.model,
        version: b.version,
        bucket: b.bucket,
        replica: b.replica,
        items: b.items,
        state: JSON.stringify(b.state),
        updated_at: b.updatedAt,
      };
    });
    if (values.length === 0) return;
    await writeInChunks(this.ctx.db(), values, 8, (trx, slice) =>
      trx
        .insertInto('live_sketches')
        .values(slice)
        .onConflict((oc) =>
          oc.columns(['tenant', 'model', 'version', 'bucket', 'replica']).doUpdateSet((eb) => ({
            items: eb.ref('excluded.items'),
            state: eb.ref('excluded.state'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute(),
    );
  }

  async listSketches(filter: {
    tenant: string;
    model: string;
    version?: number;
    since: string;
  }): Promise<SketchBucket[]> {
    if (!isPlainObject(filter))
      throw badInput('the filter must be an object', '', 'pass { tenant, model, since }');
    let query = this.ctx
      .db()
      .selectFrom('live_sketches')
      .selectAll()
      .where('tenant', '=', checkTenantId(filter.tenant))
      .where('model', '=', checkModelName(filter.model, 'model'))
      .where('bucket', '>=', utc(filter.since, 'since'))
      .orderBy('bucket')
      .orderBy('version')
      .orderBy('replica');
    if (filter.version !== undefined)
      query = query.where('version', '=', checkInteger(filter.version, 'version', 1, 'pass e.g. 3'));
    return (await query.execute()).map((row) => ({
      tenant: row.tenant,
      model: row.model,
      version: Number(row.version),
      bucket: row.bucket,
      replica: row.replica,
      items: Number(row.items),
      state: JSON.parse(row.state) as Record<string, unknown>,
      updatedAt: row.updated_at,
    }));
  }

  async purgeSketches(before: string): Promise<number> {
    const result = await this.ctx
      .db()
      .deleteFrom('live_sketches')
      .where('bucket', '<', utc(before, 'before'))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
