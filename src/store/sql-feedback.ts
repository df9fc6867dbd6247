import type BetterSqlite3 from 'better-sqlite3';
import { type Selectable, sql } from 'kysely';
import type { FeedbackTable, PredictionLogTable } from './database.ts';
import type {
  Feedback,
  FeedbackCount,
  FeedbackFilter,
  FeedbackStatus,
  FeedbackStore,
  LoggedPrediction,
  LoggedTiming,
  NewFeedback,
  PredictionFilter,
  SerializedPrediction,
  UsageCount,
} from './serving-store.ts';
import {
  badInput,
  checkChoice,
  checkInteger,
  checkTenantId,
  checkText,
  checkTimestamp,
  insertChunk,
  isPlainObject,
  optionalText,
  type SqlContext,
  shortId,
  writeInChunks,
} from './sql-common.ts';

const STATUSES: readonly FeedbackStatus[] = ['new', 'accepted', 'rejected'];
const RATINGS = ['up', 'down'] as const;
const DAY = /^\d{4}-\d\d-\d\d$/;

/** The output column of a row: its JSON text as given, else the output object serialised. */
function outputText(row: LoggedPrediction | SerializedPrediction): string {
  const given = (row as Partial<SerializedPrediction>).outputJson;
  return given !== undefined ? given : JSON.stringify((row as LoggedPrediction).output);
}

function toLogged(row: Selectable<PredictionLogTable>): LoggedPrediction {
  return {
    requestId: row.request_id,
    item: Number(row.item),
    tenant: row.tenant,
    model: row.model,
    version: Number(row.version),
    text: row.text,
    output: JSON.parse(row.output),
    overridden: Number(row.overridden) === 1,
    latencyMs: Number(row.latency_ms),
    createdAt: row.created_at,
  };
}

function toFeedback(row: Selectable<FeedbackTable>): Feedback {
  return {
    id: row.id,
    tenant: row.tenant,
    requestId: row.request_id,
    item: Number(row.item),
    model: row.model,
    version: row.version == null ? null : Number(row.version),
    rating: row.rating as Feedback['rating'],
    correction: row.correction == null ? null : JSON.parse(row.correction),
    comment: row.comment,
    text: row.text,
    status: row.status as FeedbackStatus,
    createdAt: row.created_at,
  };
}

/** An ISO timestamp normalised to UTC (`…Z`), so that text comparison in SQL orders correctly. */
function utcTimestamp(value: unknown, path: string): string {
  return new Date(checkTimestamp(value, path)).toISOString();
}

function checkLogged(row: unknown, path: string): LoggedPrediction | SerializedPrediction {
  if (!isPlainObject(row))
    throw badInput(`${path} must be an object`, path, 'pass { requestId, item, tenant, model, version, … }');
  checkText(row.requestId, `${path}.requestId`, 'pass the request id');
  checkInteger(row.item, `${path}.item`, 0, 'pass the index of the text in the request (0 for one text)');
  checkTenantId(row.tenant, `${path}.tenant`);
  checkText(row.model, `${path}.model`, 'pass the registered model name');
  checkInteger(row.version, `${path}.version`, 1, 'pass the version that answered');
  if (typeof row.text !== 'string')
    throw badInput(`${path}.text must be a string`, `${path}.text`, 'pass the text');
  if (row.outputJson !== undefined) {
    if (typeof row.outputJson !== 'string' || !row.outputJson.startsWith('{'))
      throw badInput(
        `${path}.outputJson must be a JSON object's text`,
        `${path}.outputJson`,
        'pass JSON.stringify of the response item',
      );
  } else if (!isPlainObject(row.output))
    throw badInput(
      `${path}.output must be an object (or outputJson its JSON text)`,
      `${path}.output`,
      'pass the response item',
    );
  if (typeof row.overridden !== 'boolean')
    throw badInput(
      `${path}.overridden must be true or false`,
      `${path}.overridden`,
      'say whether a rule changed it',
    );
  if (typeof row.latencyMs !== 'number' || !Number.isFinite(row.latencyMs) || row.latencyMs < 0)
    throw badInput(`${path}.latencyMs must be a number ≥ 0`, `${path}.latencyMs`, 'pass the latency in ms');
  checkTimestamp(row.createdAt, `${path}.createdAt`);
  return row as unknown as LoggedPrediction | SerializedPrediction;
}

function checkUsage(count: unknown, path: string): UsageCount {
  if (!isPlainObject(count))
    throw badInput(`${path} must be an object`, path, 'pass { tenant, model, version, day, requests, … }');
  checkTenantId(count.tenant, `${path}.tenant`);
  checkText(count.model, `${path}.model`, 'pass the registered model name');
  checkInteger(count.version, `${path}.version`, 1, 'pass the version that answered');
  if (typeof count.day !== 'string' || !DAY.test(count.day))
    throw badInput(`${path}.day must be YYYY-MM-DD`, `${path}.day`, 'pass the UTC day, e.g. 2024-05-01');
  for (const key of ['requests', 'items', 'overridden', 'errors'] as const)
    checkInteger(count[key], `${path}.${key}`, 0, 'pass a count (0 or more)');
  return count as unknown as UsageCount;
}

/** Logged predictions, daily usage counters and feedback in the SQL store. */
export class SqlFeedbackStore implements FeedbackStore {
  /** SQLite: the prepared insert of {@link logPredictions}, made on first use. */
  private insertLogged: BetterSqlite3.Statement | null = null;

  constructor(private readonly ctx: SqlContext) {}

  async logPredictions(rows: readonly (LoggedPrediction | SerializedPrediction)[]): Promise<void> {
    if (!Array.isArray(rows))
      throw badInput('rows must be an array', 'rows', 'pass the logged predictions as an array');
    const firsts = new Map<string, LoggedPrediction | SerializedPrediction>();
    rows.forEach((r, i) => {
      const row = checkLogged(r, `rows[${i}]`);
      const key = `${row.tenant}\u0000${row.requestId}\u0000${row.item}`;
      if (!firsts.has(key)) firsts.set(key, row);
    });
    if (firsts.size === 0) return;
    const values = [...firsts.values()].map((r) => ({
      tenant: r.tenant,
      request_id: r.requestId,
      item: r.item,
      model: r.model,
      version: r.version,
      text: r.text,
      output: outputText(r),
      overridden: r.overridden ? 1 : 0,
      latency_ms: r.latencyMs,
      created_at: utcTimestamp(r.createdAt, 'createdAt'),
    }));
    const { sqlite } = this.ctx;
    if (sqlite) {
      // The server flushes its log every 250 ms: one cached prepared statement in one transaction is ~20× cheaper
      // than compiling a multi-row INSERT through kysely, and runs under kysely's connection lock.
      await this.ctx
        .db()
        .connection()
        .execute(async () => {
          this.insertLogged ??= sqlite.prepare(
            'insert into prediction_log (tenant, request_id, item, model, version, text, output, overridden, latency_ms, created_at) ' +
              'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (tenant, request_id, item) do nothing',
          );
          const insert = this.insertLogged;
          sqlite.transaction(() => {
            for (const v of values)
              insert.run(
                v.tenant,
                v.request_id,
                v.item,
                v.model,
                v.version,
                v.text,
                v.output,
                v.overridden,
                v.latency_ms,
                v.created_at,
              );
          })();
        });
      return;
    }
    await writeInChunks(this.ctx.db(), values, 10, (trx, slice) =>
      trx
        .insertInto('prediction_log')
        .values(slice)
        .onConflict((oc) => oc.columns(['tenant', 'request_id', 'item']).doNothing())
        .execute(),
    );
  }

  async getLoggedPrediction(tenant: string, requestId: string, item = 0): Promise<LoggedPrediction | null> {
    checkTenantId(tenant);
    if (typeof requestId !== 'string' || !Number.isSafeInteger(item)) return null;
    const row = await this.ctx
      .db()
      .selectFrom('prediction_log')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('request_id', '=', requestId)
      .where('item', '=', item)
      .executeTakeFirst();
    return row ? toLogged(row) : null;
  }

  async loggedTimings(filter: {
    tenant: string;
    model?: string;
    since?: string;
    limit?: number;
  }): Promise<LoggedTiming[]> {
    if (!isPlainObject(filter)) throw badInput('the filter must be an object', '', 'pass { tenant }');
    let query = this.ctx
      .db()
      .selectFrom('prediction_log')
      .select(['request_id', 'item', 'model', 'version', 'overridden', 'latency_ms', 'created_at'])
      .where('tenant', '=', checkTenantId(filter.tenant))
      .orderBy('created_at', 'desc')
      .limit(filter.limit === undefined ? 100_000 : checkInteger(filter.limit, 'limit', 1, 'pass e.g. 1000'));
    if (filter.model !== undefined) query = query.where('model', '=', filter.model);
    if (filter.since !== undefined)
      query = query.where('created_at', '>=', utcTimestamp(filter.since, 'since'));
    const rows = await query.execute();
    return rows.reverse().map((row) => ({
      requestId: row.request_id,
      item: Number(row.item),
      model: row.model,
      version: Number(row.version),
      overridden: Number(row.overridden) === 1,
      latencyMs: Number(row.latency_ms),
      createdAt: row.created_at,
    }));
  }

  async addUsage(counts: readonly UsageCount[]): Promise<void> {
    if (!Array.isArray(counts))
      throw badInput(
        'counts must be an array',
        'counts',
        'pass [{ tenant, model, version, day, requests, … }]',
      );
    // Sum rows for the same day first: one statement may not update a row twice.
    const merged = new Map<string, UsageCount>();
    counts.forEach((c, i) => {
      const count = checkUsage(c, `counts[${i}]`);
      const key = `${count.tenant}\u0000${count.model}\u0000${count.version}\u0000${count.day}`;
      const seen = merged.get(key);
      if (!seen) merged.set(key, { ...count });
      else {
        seen.requests += count.requests;
        seen.items += count.items;
        seen.overridden += count.overridden;
        seen.errors += count.errors;
      }
    });
    if (merged.size === 0) return;
    const values = [...merged.values()].map((c) => ({
      tenant: c.tenant,
      model: c.model,
      version: c.version,
      day: c.day,
      requests: c.requests,
      items: c.items,
      overridden: c.overridden,
      errors: c.errors,
    }));
    await writeInChunks(this.ctx.db(), values, 8, (trx, slice) =>
      trx
        .insertInto('usage_daily')
        .values(slice)
        .onConflict((oc) =>
          oc.columns(['tenant', 'model', 'version', 'day']).doUpdateSet({
            requests: sql`usage_daily.requests + excluded.requests`,
            items: sql`usage_daily.items + excluded.items`,
            overridden: sql`usage_daily.overridden + excluded.overridden`,
            errors: sql`usage_daily.errors + excluded.errors`,
          }),
        )
        .execute(),
    );
  }

  async usage(filter: { tenant?: string; model?: string; since?: string } = {}): Promise<UsageCount[]> {
    let query = this.ctx
      .db()
      .selectFrom('usage_daily')
      .selectAll()
      .orderBy('day')
      .orderBy('tenant')
      .orderBy('model')
      .orderBy('version');
    if (filter.tenant !== undefined) query = query.where('tenant', '=', checkTenantId(filter.tenant));
    if (filter.model !== undefined) query = query.where('model', '=', filter.model);
    if (filter.since !== undefined)
      query = query.where('day', '>=', utcTimestamp(filter.since, 'since').slice(0, 10));
    return (await query.execute()).map((r) => ({
      tenant: r.tenant,
      model: r.model,
      version: Number(r.version),
      day: r.day,
      requests: Number(r.requests),
      items: Number(r.items),
      overridden: Number(r.overridden),
      errors: Number(r.errors),
    }));
  }

  async addFeedback(input: NewFeedback): Promise<Feedback> {
    if (!isPlainObject(input))
      throw badInput(
        'the feedback must be an object',
        '',
        'pass { tenant, requestId, rating?, correction? }',
      );
    const tenant = checkTenantId(input.tenant);
    const requestId = checkText(
      input.requestId,
      'requestId',
      'pass the request id from the predict response',
    );
    const item =
      input.item === undefined ? 0 : checkInteger(input.item, 'item', 0, 'pass the index of the text');
    const model = optionalText(input.model, 'model');
    const version =
      input.version == null
        ? null
        : checkInteger(input.version, 'version', 1, 'pass the version that answered');
    const rating = input.rating == null ? null : checkChoice(input.rating, RATINGS, 'rating');
    const correction = input.correction ?? null;
    if (correction !== null && !isPlainObject(correction))
      throw badInput(
        'correction must be an object',
        'correction',
        'pass { labels: [...] } or { spans: [...] }',
      );
    const row = {
      id: shortId('fb'),
      tenant,
      request_id: requestId,
      item,
      model,
      version,
      rating,
      correction: correction === null ? null : JSON.stringify(correction),
      comment: optionalText(input.comment, 'comment'),
      text: optionalText(input.text, 'text'),
      status: 'new',
      created_at: new Date().toISOString(),
    };
    await this.ctx.db().insertInto('feedback').values(row).execute();
    return toFeedback({ ...row, seq: 0 });
  }

  async listFeedback(filter: FeedbackFilter): Promise<Feedback[]> {
    if (!isPlainObject(filter)) throw badInput('the filter must be an object', '', 'pass { tenant }');
    let query = this.ctx
      .db()
      .selectFrom('feedback')
      .selectAll()
      .where('tenant', '=', checkTenantId(filter.tenant))
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc');
    if (filter.model !== undefined) query = query.where('model', '=', filter.model);
    if (filter.status !== undefined)
      query = query.where('status', '=', checkChoice(filter.status, STATUSES, 'status'));
    if (filter.withCorrection === true) query = query.where('correction', 'is not', null);
    if (filter.since !== undefined)
      query = query.where('created_at', '>=', utcTimestamp(filter.since, 'since'));
    if (filter.limit !== undefined)
      query = query.limit(checkInteger(filter.limit, 'limit', 1, 'pass e.g. 100'));
    return (await query.execute()).map(toFeedback);
  }

  async setFeedbackStatus(tenant: string, ids: readonly string[], status: FeedbackStatus): Promise<number> {
    checkTenantId(tenant);
    const wanted = checkChoice(status, STATUSES, 'status');
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
      throw badInput(
        'ids must be an array of feedback ids',
        'ids',
        'pass ids as listed by `sapphire feedback ls`',
      );
    const unique = [...new Set(ids)];
    if (unique.length === 0) return 0;
    const chunk = insertChunk(1);
    return this.ctx
      .db()
      .transaction()
      .execute(async (trx) => {
        let changed = 0;
        for (let i = 0; i < unique.length; i += chunk) {
          const result = await trx
            .updateTable('feedback')
            .set({ status: wanted })
            .where('tenant', '=', tenant)
            .where('id', 'in', unique.slice(i, i + chunk))
            .where('status', '!=', wanted)
            .executeTakeFirst();
          changed += Number(result.numUpdatedRows);
        }
        return changed;
      });
  }

  async feedbackCounts(
    filter: { tenant?: string; model?: string; since?: string } = {},
  ): Promise<FeedbackCount[]> {
    const day = sql<string>`substr(created_at, 1, 10)`;
    let query = this.ctx
      .db()
      .selectFrom('feedback')
      .select([
        'tenant',
        'model',
        'version',
        day.as('day'),
        sql<number | string>`sum(case when rating = 'up' then 1 else 0 end)`.as('up'),
        sql<number | string>`sum(case when rating = 'down' then 1 else 0 end)`.as('down'),
        sql<number | string>`count(correction)`.as('corrections'),
      ])
      .where('model', 'is not', null)
      .where('version', 'is not', null)
      .groupBy(['tenant', 'model', 'version', day])
      .orderBy(day)
      .orderBy('tenant')
      .orderBy('model')
      .orderBy('version');
    if (filter.tenant !== undefined) query = query.where('tenant', '=', checkTenantId(filter.tenant));
    if (filter.model !== undefined) query = query.where('model', '=', filter.model);
    if (filter.since !== undefined)
      query = query.where('created_at', '>=', utcTimestamp(filter.since, 'since'));
    return (await query.execute()).map((r) => ({
      tenant: r.tenant,
      model: r.model as string,
      version: Number(r.version),
      day: r.day,
      up: Number(r.up),
      down: Number(r.down),
      corrections: Number(r.corrections),
    }));
  }

  async purgePredictions(before: string): Promise<number> {
    const cutoff = utcTimestamp(before, 'before');
    const result = await this.ctx
      .db()
      .deleteFrom('prediction_log')
      .where('created_at', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listPredictions(filter: PredictionFilter): Promise<LoggedPrediction[]> {
    if (!isPlainObject(filter)) throw badInput('the filter must be an object', '', 'pass { tenant, model }');
    let query = this.ctx
      .db()
      .selectFrom('prediction_log')
      .selectAll()
      .where('tenant', '=', checkTenantId(filter.tenant))
      .where('model', '=', checkText(filter.model, 'model', 'pass the registered model name'))
      .orderBy('created_at', 'desc')
      .orderBy('request_id')
      .orderBy('item');
    if (filter.version !== undefined)
      query = query.where('version', '=', checkInteger(filter.version, 'version', 1, 'pass e.g. 3'));
    if (filter.since !== undefined)
      query = query.where('created_at', '>=', utcTimestamp(filter.since, 'since'));
    if (filter.limit !== undefined)
      query = query.limit(checkInteger(filter.limit, 'limit', 1, 'pass e.g. 1000'));
    return (await query.execute()).map(toLogged);
  }
}
