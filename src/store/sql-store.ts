import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { type Kysely, type Selectable, sql } from 'kysely';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import type { Example } from '../data/types.ts';
import { type ArtifactStore, sha256Hex } from './artifacts.ts';
import { canonicalJson, parseExamplesJsonl, serialiseExamples } from './canonical.ts';
import type {
  DatasetVersionsTable,
  RunsTable,
  SqlDialectName,
  StoreDatabase,
  StoreTables,
} from './database.ts';
import { checkDatasetName, datasetVersionId, newRunId, parseDatasetRef } from './ids.ts';
import { badInput, checkMetrics, isPlainObject, type SqlContext } from './sql-common.ts';
import { SqlFeedbackStore } from './sql-feedback.ts';
import { SqlMonitoringStore } from './sql-monitoring.ts';
import { SqlOverrideStore } from './sql-overrides.ts';
import { SqlRegistryStore } from './sql-registry.ts';
import { SqlTenantStore } from './sql-tenants.ts';
import { type CheckpointLog, SqliteCheckpointer } from './sqlite-checkpointer.ts';
import type {
  DatasetVersion,
  DeletedRuns,
  MetricPoint,
  NewDatasetVersion,
  NewRun,
  Run,
  RunArtifact,
  RunFilter,
  RunPatch,
  RunStatus,
  Store,
} from './store.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const DATA_LS_HINT = 'run `sapphire data ls` to see the stored dataset versions';
const RUNS_LS_HINT = 'run `sapphire runs ls` to see the tracked runs';

function toVersion(row: Selectable<DatasetVersionsTable>): DatasetVersion {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    parentId: row.parent_id,
    operation: JSON.parse(row.operation),
    exampleCount: Number(row.example_count),
    splitCounts: JSON.parse(row.split_counts),
    blob: row.blob,
    createdAt: row.created_at,
  };
}

function toRun(row: Selectable<RunsTable>): Run {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    status: row.status as RunStatus,
    config: JSON.parse(row.config),
    datasetVersions: JSON.parse(row.dataset_versions),
    seed: row.seed == null ? null : Number(row.seed),
    metrics: JSON.parse(row.metrics),
    tags: JSON.parse(row.tags),
    error: row.error,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    parentId: row.parent_id,
    notes: row.notes,
    provenance: JSON.parse(row.provenance),
  };
}

/** Rows per INSERT: 4 columns × 1,000 stays far below SQLite's and PostgreSQL's parameter limits. */
const INSERT_CHUNK = 1000;

function checkTags(tags: unknown, path: string): string[] {
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.trim() === '' || /[,\s]/.test(t)))
    throw badInput(
      `${path} must be non-empty strings without spaces or commas`,
      path,
      'pass e.g. ["baseline"]',
    );
  return tags as string[];
}

/** Escapes `%`, `_` and `\\` for a LIKE pattern used with `escape '\\'`. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The one Store implementation: SQL through kysely (SQLite or PostgreSQL) plus a content-addressed
 * artifact folder. Open it with `openStore`.
 *
 * Dataset versions are written blob first (temp file + rename), then the version row in a transaction;
 * a failure between the two can leave an unreferenced blob in the artifact folder (harmless: blobs are
 * content-addressed and a later put of the same content reuses it) but never a version without its data.
 */
export class SqlStore implements Store {
  readonly location: string;
  /** `sqlite` or `postgres`. */
  readonly dialect: SqlDialectName;
  /** The typed kysely handle, for migrations and tooling; prefer the Store methods. */
  readonly db: Kysely<StoreTables>;
  /** The content-addressed folder or bucket holding dataset blobs and other artifacts. */
  readonly artifacts: ArtifactStore;
  readonly registry: SqlRegistryStore;
  readonly tenants: SqlTenantStore;
  readonly overrides: SqlOverrideStore;
  readonly feedback: SqlFeedbackStore;
  readonly monitoring: SqlMonitoringStore;
  private closed = false;
  private readonly sqlite: StoreDatabase['sqlite'];
  private checkpointer: Promise<SqliteCheckpointer | null> | null = null;

  constructor(database: StoreDatabase, artifacts: ArtifactStore) {
    this.sqlite = database.sqlite;
    this.db = database.db;
    this.dialect = database.dialect;
    this.location = database.location;
    this.artifacts = artifacts;
    const context: SqlContext = {
      db: () => this.active(),
      dialect: this.dialect,
      location: this.location,
      sqlite: database.sqlite,
    };
    this.registry = new SqlRegistryStore(context);
    this.tenants = new SqlTenantStore(context);
    this.overrides = new SqlOverrideStore(context);
    this.feedback = new SqlFeedbackStore(context);
    this.monitoring = new SqlMonitoringStore(context);
  }

  private active(): Kysely<StoreTables> {
    if (this.closed) {
      throw new SapphireError('STORE_ERROR', `the store at ${this.location} is closed`, {
        hint: 'open it again with openStore()',
      });
    }
    return this.db;
  }

  async putDatasetVersion(input: NewDatasetVersion): Promise<{ version: DatasetVersion; created: boolean }> {
    const db = this.active();
    if (!isPlainObject(input))
      throw badInput('the new dataset version must be an object', '', 'pass { name, examples, operation }');
    checkDatasetName(input.name);
    const operation = input.operation;
    if (!isPlainObject(operation) || typeof operation.kind !== 'string' || operation.kind === '') {
      throw badInput(
        'operation.kind must be a non-empty string',
        'operation.kind',
        'describe how the version was made, e.g. { kind: "import", params: { … } }',
      );
    }
    if (operation.params !== undefined && !isPlainObject(operation.params)) {
      throw badInput(
        'operation.params must be an object',
        'operation.params',
        'pass the parameters as an object',
      );
    }
    canonicalJson(operation.params ?? {}, 'operation.params'); // rejects what JSON would silently change (NaN, Date, …)
    const operationJson = JSON.stringify({ kind: operation.kind, params: operation.params ?? {} });

    const serialised = serialiseExamples(input.examples, `dataset "${input.name}"`);
    const existing = await db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('name', '=', input.name)
      .where('hash', '=', serialised.hash)
      .executeTakeFirst();
    if (existing) return { version: toVersion(existing), created: false };

    let parentId: string | null = null;
    if (input.parentId != null) {
      try {
        parentId = (await this.getDatasetVersion(input.parentId)).id;
      } catch (err) {
        if (err instanceof NotFoundError) {
          throw new NotFoundError(
            `parent version "${input.parentId}" of dataset "${input.name}" does not exist`,
            {
              path: 'parentId',
              hint: DATA_LS_HINT,
            },
          );
        }
        throw err;
      }
    }

    // 1. The data, durably, under its content hash. 2. The row that makes it visible, in a transaction.
    const blob = await this.artifacts.put(await gzipAsync(Buffer.from(serialised.jsonl, 'utf8')));
    const id = datasetVersionId(input.name, serialised.hash);
    try {
      return await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('dataset_versions')
          .values({
            id,
            name: input.name,
            hash: serialised.hash,
            parent_id: parentId,
            operation: operationJson,
            example_count: input.examples.length,
            split_counts: JSON.stringify(serialised.splitCounts),
            blob,
            created_at: new Date().toISOString(),
          })
          .onConflict((oc) => oc.columns(['name', 'hash']).doNothing())
          .executeTakeFirst();
        const row = await trx
          .selectFrom('dataset_versions')
          .selectAll()
          .where('name', '=', input.name)
          .where('hash', '=', serialised.hash)
          .executeTakeFirstOrThrow();
        return { version: toVersion(row), created: Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 };
      });
    } catch (err) {
      throw new SapphireError(
        'STORE_ERROR',
        `could not record version ${id} of dataset "${input.name}" in ${this.location}: ${(err as Error).message}`,
        { hint: 'nothing was recorded; fix the cause and store the dataset again', cause: err },
      );
    }
  }

  async listDatasetVersions(name?: string): Promise<DatasetVersion[]> {
    let query = this.active().selectFrom('dataset_versions').selectAll().orderBy('seq', 'desc');
    if (name !== undefined) query = query.where('name', '=', name);
    return (await query.execute()).map(toVersion);
  }

  async getDatasetVersion(ref: string): Promise<DatasetVersion> {
    const db = this.active();
    const { name, prefix } = parseDatasetRef(ref);
    if (prefix === null) {
      const row = await db
        .selectFrom('dataset_versions')
        .selectAll()
        .where('name', '=', name)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!row)
        throw new NotFoundError(`no dataset named "${name}" in ${this.location}`, { hint: DATA_LS_HINT });
      return toVersion(row);
    }
    const rows = await db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('name', '=', name)
      .where('hash', 'like', `${prefix}%`)
      .orderBy('seq', 'desc')
      .limit(20)
      .execute();
    if (rows.length === 1) return toVersion(rows[0]!);
    if (rows.length > 1) {
      throw new SapphireError(
        'BAD_INPUT',
        `"${ref}" is ambiguous: it matches ${rows.map((r) => r.id).join(', ')}`,
        {
          candidates: rows.map((r) => r.id),
          hint: 'add more characters of the hash after @',
        },
      );
    }
    const others = await db
      .selectFrom('dataset_versions')
      .select('id')
      .where('name', '=', name)
      .orderBy('seq', 'desc')
      .limit(5)
      .execute();
    const known = others.length > 0 ? ` (versions of "${name}": ${others.map((r) => r.id).join(', ')})` : '';
    throw new NotFoundError(`no dataset version "${ref}" in ${this.location}${known}`, {
      hint: DATA_LS_HINT,
    });
  }

  async loadExamples(ref: string): Promise<Example[]> {
    const version = await this.getDatasetVersion(ref);
    const bytes = await this.artifacts.get(version.blob);
    let jsonl: string;
    try {
      jsonl = (await gunzipAsync(bytes)).toString('utf8');
    } catch (err) {
      throw new SapphireError(
        'STORE_ERROR',
        `the data of ${version.id} cannot be decompressed: ${(err as Error).message}`,
        {
          file: this.artifacts.pathOf(version.blob),
          hint: 'restore the artifact from a backup or import the dataset again',
        },
      );
    }
    const actual = sha256Hex(jsonl);
    if (actual !== version.hash) {
      throw new SapphireError(
        'STORE_ERROR',
        `the data of ${version.id} is corrupted: its content hashes to ${actual}`,
        {
          file: this.artifacts.pathOf(version.blob),
          hint: 'restore the artifact from a backup or import the dataset again',
        },
      );
    }
    return parseExamplesJsonl(jsonl, this.artifacts.pathOf(version.blob));
  }

  async createRun(input: NewRun): Promise<Run> {
    const db = this.active();
    if (!isPlainObject(input) || typeof input.kind !== 'string' || input.kind === '') {
      throw badInput('a run needs a non-empty kind', 'kind', 'pass e.g. { kind: "train" }');
    }
    if (input.name != null && typeof input.name !== 'string')
      throw badInput('run name must be a string', 'name', 'pass a string or null');
    const config = input.config ?? {};
    if (!isPlainObject(config))
      throw badInput('run config must be an object', 'config', 'pass the filled config object');
    canonicalJson(config, 'config');
    const seed = input.seed ?? null;
    if (seed !== null && !Number.isSafeInteger(seed))
      throw badInput(`seed ${seed} is not an integer`, 'seed', 'use an integer seed');
    const tags = checkTags(input.tags ?? [], 'tags');
    const provenance = input.provenance ?? {};
    if (!isPlainObject(provenance))
      throw badInput('run provenance must be an object', 'provenance', 'pass e.g. { host, git }');
    canonicalJson(provenance, 'provenance');
    const parentId = input.parentId ?? null;
    if (parentId !== null) await this.getRun(parentId);
    // Store full ids so a run names exactly the data it saw, even after newer versions arrive.
    const datasetVersions: string[] = [];
    for (const ref of input.datasetVersions ?? [])
      datasetVersions.push((await this.getDatasetVersion(ref)).id);

    const startedAt = new Date();
    const row = {
      id: newRunId(startedAt),
      kind: input.kind,
      name: input.name ?? null,
      status: 'running',
      config: JSON.stringify(config),
      dataset_versions: JSON.stringify(datasetVersions),
      seed,
      metrics: '{}',
      tags: JSON.stringify(tags),
      error: null,
      started_at: startedAt.toISOString(),
      ended_at: null,
      parent_id: parentId,
      notes: null,
      provenance: JSON.stringify(provenance),
    };
    await db.insertInto('runs').values(row).execute();
    return this.getRun(row.id);
  }

  private async runningRun(runId: string, action: string): Promise<Run> {
    const run = await this.getRun(runId);
    if (run.status !== 'running') {
      throw new SapphireError('CONFLICT', `cannot ${action} run ${runId}: it is already ${run.status}`, {
        hint: 'start a new run for new results',
      });
    }
    return run;
  }

  async logMetrics(runId: string, step: number, metrics: Record<string, number>): Promise<void> {
    const db = this.active();
    if (!Number.isSafeInteger(step) || step < 0)
      throw badInput(`step ${step} is not a non-negative integer`, 'step', 'count steps 0, 1, 2, …');
    const values = checkMetrics(metrics, 'metrics');
    await this.runningRun(runId, 'log metrics to');
    const rows = Object.entries(values).map(([key, value]) => ({ run_id: runId, key, step, value }));
    if (rows.length === 0) return;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('run_metrics')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['run_id', 'key', 'step']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
        )
        .execute();
    });
  }

  async logMetricPoints(runId: string, points: MetricPoint[]): Promise<void> {
    const db = this.active();
    if (!Array.isArray(points))
      throw badInput('points must be an array', 'points', 'pass [{ key, step, value }, …]');
    const latest = new Map<string, { run_id: string; key: string; step: number; value: number }>();
    points.forEach((p, i) => {
      const path = `points[${i}]`;
      if (!isPlainObject(p) || typeof p.key !== 'string' || p.key === '')
        throw badInput(`${path}.key must be a non-empty string`, `${path}.key`, 'name every metric');
      if (!Number.isSafeInteger(p.step) || p.step < 0)
        throw badInput(
          `${path}.step ${p.step} is not a non-negative integer`,
          `${path}.step`,
          'count steps 0, 1, 2, …',
        );
      checkMetrics({ [p.key]: p.value }, path);
      latest.set(`${p.key}\u0000${p.step}`, { run_id: runId, key: p.key, step: p.step, value: p.value });
    });
    await this.runningRun(runId, 'log metrics to');
    const rows = [...latest.values()];
    if (rows.length === 0) return;
    if (this.dialect === 'postgres') {
      // One array insert per 50,000 points: PostgreSQL parses one statement instead of a parameter per value.
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 50_000) {
          const chunk = rows.slice(i, i + 50_000);
          await sql`insert into run_metrics (run_id, key, step, value)
            select * from unnest(${chunk.map((r) => r.run_id)}::text[], ${chunk.map((r) => r.key)}::text[],
              ${chunk.map((r) => r.step)}::integer[], ${chunk.map((r) => r.value)}::double precision[])
            on conflict (run_id, key, step) do update set value = excluded.value`.execute(trx);
        }
      });
      return;
    }
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('run_metrics')
          .values(rows.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) =>
            oc.columns(['run_id', 'key', 'step']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .execute();
      }
    });
  }

  async finishRun(
    runId: string,
    outcome: { status: 'finished' | 'failed'; metrics?: Record<string, number>; error?: string },
  ): Promise<Run> {
    const db = this.active();
    if (!isPlainObject(outcome) || (outcome.status !== 'finished' && outcome.status !== 'failed')) {
      throw badInput(
        'outcome.status must be "finished" or "failed"',
        'status',
        'pass { status: "finished", metrics } or { status: "failed", error }',
      );
    }
    const metrics = checkMetrics(outcome.metrics ?? {}, 'metrics');
    await this.runningRun(runId, 'finish');
    const result = await db
      .updateTable('runs')
      .set({
        status: outcome.status,
        metrics: JSON.stringify(metrics),
        error: outcome.status === 'failed' ? (outcome.error ?? 'unknown error') : null,
        ended_at: new Date().toISOString(),
      })
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) await this.runningRun(runId, 'finish'); // lost a race: report who won
    return this.getRun(runId);
  }

  async getRun(runId: string): Promise<Run> {
    const row = await this.active().selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
    if (!row) throw new NotFoundError(`no run "${runId}" in ${this.location}`, { hint: RUNS_LS_HINT });
    return toRun(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<Run[]> {
    let query = this.active().selectFrom('runs').selectAll().orderBy('seq', 'desc');
    if (typeof filter.kind === 'string') query = query.where('kind', '=', filter.kind);
    else if (Array.isArray(filter.kind)) {
      if (filter.kind.length === 0) return [];
      query = query.where('kind', 'in', filter.kind);
    }
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.parentId === null) query = query.where('parent_id', 'is', null);
    else if (filter.parentId !== undefined) query = query.where('parent_id', '=', filter.parentId);
    if (filter.tag !== undefined) {
      const pattern = `%${likeLiteral(JSON.stringify(filter.tag))}%`;
      query = query.where(sql<boolean>`tags like ${pattern} escape '\\'`);
    }
    if (filter.limit !== undefined) {
      if (!Number.isSafeInteger(filter.limit) || filter.limit < 1)
        throw badInput(`limit ${filter.limit} is not a positive integer`, 'limit', 'pass e.g. 50');
      query = query.limit(filter.limit);
    }
    return (await query.execute()).map(toRun);
  }

  async updateRun(runId: string, patch: RunPatch): Promise<Run> {
    if (!isPlainObject(patch))
      throw badInput('the patch must be an object', '', 'pass { addTags, notes, … }');
    const run = await this.getRun(runId);
    const removed = new Set(checkTags(patch.removeTags ?? [], 'removeTags'));
    const tags = [...new Set([...run.tags, ...checkTags(patch.addTags ?? [], 'addTags')])].filter(
      (t) => !removed.has(t),
    );
    const changes: { tags: string; name?: string | null; notes?: string | null } = {
      tags: JSON.stringify(tags),
    };
    if (patch.name !== undefined) {
      if (patch.name !== null && typeof patch.name !== 'string')
        throw badInput('name must be a string or null', 'name', 'pass a string');
      changes.name = patch.name;
    }
    if (patch.notes !== undefined) {
      if (patch.notes !== null && typeof patch.notes !== 'string')
        throw badInput('notes must be a string or null', 'notes', 'pass a string');
      changes.notes = patch.notes;
    }
    await this.active().updateTable('runs').set(changes).where('id', '=', runId).execute();
    return this.getRun(runId);
  }

  async deleteRun(runId: string): Promise<DeletedRuns> {
    const db = this.active();
    await this.getRun(runId);
    // The run and every run below it (a study's members, a nested study's members, …).
    const ids = [runId];
    for (let frontier = [runId]; frontier.length > 0; ) {
      const children = await db.selectFrom('runs').select('id').where('parent_id', 'in', frontier).execute();
      frontier = children.map((c) => c.id);
      ids.push(...frontier);
    }
    const hashes = await db.transaction().execute(async (trx) => {
      const found = new Set<string>();
      for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
        const chunk = ids.slice(i, i + INSERT_CHUNK);
        const rows = await trx
          .selectFrom('run_artifacts')
          .select('hash')
          .where('run_id', 'in', chunk)
          .execute();
        for (const r of rows) found.add(r.hash);
        await trx.deleteFrom('run_artifacts').where('run_id', 'in', chunk).execute();
        await trx.deleteFrom('run_metrics').where('run_id', 'in', chunk).execute();
      }
      // Members first, then their study: delete the deepest runs first.
      for (let i = ids.length; i > 0; i -= INSERT_CHUNK) {
        await trx
          .deleteFrom('runs')
          .where('id', 'in', ids.slice(Math.max(0, i - INSERT_CHUNK), i))
          .execute();
      }
      return [...found];
    });
    let freedArtifacts = 0;
    let freedBytes = 0;
    for (const hash of hashes) {
      const stillUsed =
        (await db
          .selectFrom('run_artifacts')
          .select('run_id')
          .where('hash', '=', hash)
          .limit(1)
          .executeTakeFirst()) ??
        (await db
          .selectFrom('dataset_versions')
          .select('id')
          .where('blob', '=', hash)
          .limit(1)
          .executeTakeFirst()) ??
        // Registered model versions keep their files after the run they came from is deleted.
        (await db
          .selectFrom('model_versions')
          .select('name')
          .where('files', 'like', `%"${hash}"%`)
          .limit(1)
          .executeTakeFirst());
      if (stillUsed) continue;
      freedBytes += await this.artifacts.delete(hash);
      freedArtifacts++;
    }
    return { runs: ids, freedArtifacts, freedBytes };
  }

  async addRunArtifacts(runId: string, artifacts: RunArtifact[]): Promise<void> {
    const db = this.active();
    if (!Array.isArray(artifacts))
      throw badInput('artifacts must be an array', 'artifacts', 'pass [{ name, hash, size }, …]');
    const rows = artifacts.map((a, i) => {
      const path = `artifacts[${i}]`;
      if (
        !isPlainObject(a) ||
        typeof a.name !== 'string' ||
        a.name === '' ||
        a.name.startsWith('/') ||
        a.name.split('/').includes('..')
      )
        throw badInput(
          `${path}.name must be a relative path such as model/model.json`,
          `${path}.name`,
          'name the file inside the run',
        );
      if (!Number.isSafeInteger(a.size) || a.size < 0)
        throw badInput(`${path}.size must be a byte count`, `${path}.size`, 'pass the size in bytes');
      this.artifacts.pathOf(a.hash); // validates the hash
      return { run_id: runId, name: a.name, hash: a.hash, size: a.size };
    });
    await this.getRun(runId);
    if (rows.length === 0) return;
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('run_artifacts')
          .values(rows.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) =>
            oc
              .columns(['run_id', 'name'])
              .doUpdateSet((eb) => ({ hash: eb.ref('excluded.hash'), size: eb.ref('excluded.size') })),
          )
          .execute();
      }
    });
  }

  async listRunArtifacts(runId: string): Promise<RunArtifact[]> {
    await this.getRun(runId);
    const rows = await this.active()
      .selectFrom('run_artifacts')
      .select(['name', 'hash', 'size'])
      .where('run_id', '=', runId)
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ name: r.name, hash: r.hash, size: Number(r.size) }));
  }

  async metricHistory(runId: string, key?: string): Promise<MetricPoint[]> {
    await this.getRun(runId);
    let query = this.active()
      .selectFrom('run_metrics')
      .select(['key', 'step', 'value'])
      .where('run_id', '=', runId)
      .orderBy('key')
      .orderBy('step');
    if (key !== undefined) query = query.where('key', '=', key);
    return (await query.execute()).map((r) => ({ key: r.key, step: Number(r.step), value: Number(r.value) }));
  }

  async putArtifact(bytes: Uint8Array): Promise<string> {
    this.active();
    if (!(bytes instanceof Uint8Array))
      throw badInput('an artifact must be bytes (Uint8Array)', 'bytes', 'encode the content first');
    return this.artifacts.put(bytes);
  }

  async getArtifact(hash: string): Promise<Uint8Array> {
    this.active();
    return this.artifacts.get(hash);
  }

  /** Reads a value from the store's settings table (e.g. `artifacts_root`), or null. */
  async getSetting(key: string): Promise<string | null> {
    const row = await this.active()
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value ?? null;
  }

  /** Writes a value into the store's settings table. */
  async setSetting(key: string, value: string): Promise<void> {
    await this.active()
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  /**
   * SQLite: runs the WAL checkpoints on a worker thread from now on (see SqliteCheckpointer), for a process that
   * writes from its event loop and must not stall; a no-op for PostgreSQL, in-memory databases and a second call.
   */
  async checkpointInBackground(logger?: CheckpointLog): Promise<void> {
    const handle = this.sqlite;
    if (!handle || handle.memory || this.checkpointer || this.closed) return;
    this.checkpointer = SqliteCheckpointer.start(handle, handle.name, logger ? { logger } : {});
    await this.checkpointer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A checkpointer that failed to start has already put automatic checkpoints back.
    await (await this.checkpointer?.catch(() => null))?.stop();
    this.artifacts.close?.();
    await this.db.destroy();
  }
}
