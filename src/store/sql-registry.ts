import type { Selectable } from 'kysely';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import type { TaskKind } from '../data/types.ts';
import { canonicalJson } from './canonical.ts';
import type { ModelVersionsTable, PromotionsTable } from './database.ts';
import {
  type AliasPointer,
  type GateOutcome,
  type ModelVersion,
  type NewModelVersion,
  type NewPromotionRecord,
  PRODUCTION_ALIAS,
  type PromotionRecord,
  type RegisteredModel,
  type RegistryStore,
} from './serving-store.ts';
import {
  badInput,
  checkChoice,
  checkInteger,
  checkMetrics,
  checkModelName,
  checkTenantId,
  checkText,
  isPlainObject,
  lenientJson,
  optionalText,
  requireTenant,
  type SqlContext,
  type SqlExecutor,
  shortId,
} from './sql-common.ts';
import type { RunArtifact } from './store.ts';

const TASKS: readonly TaskKind[] = ['ner', 'classify', 'multilabel'];
const ALIAS = /^[a-z][a-z0-9_-]{0,39}$/;
const MODELS_HINT = 'run `sapphire models ls` to see the registered models';
const HASH = /^[0-9a-f]{64}$/;

function showHint(name: string): string {
  return `run \`sapphire models show ${name}\` to see its versions and aliases`;
}

/** Throws BAD_INPUT unless `alias` can name an alias (starts with a letter, so it never reads as a version number). */
function checkAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias)) {
    throw badInput(
      `invalid alias ${JSON.stringify(alias)}`,
      'alias',
      'use lowercase letters, digits, "-" or "_", starting with a letter (at most 40), e.g. production or staging',
    );
  }
  return alias;
}

function checkFiles(files: unknown): RunArtifact[] {
  if (!Array.isArray(files))
    throw badInput('files must be an array', 'files', 'pass [{ name, hash, size }, …] of the model folder');
  const seen = new Set<string>();
  return files.map((f, i) => {
    const path = `files[${i}]`;
    if (
      !isPlainObject(f) ||
      typeof f.name !== 'string' ||
      f.name === '' ||
      f.name.startsWith('/') ||
      f.name.split('/').includes('..')
    )
      throw badInput(
        `${path}.name must be a relative path such as model.json`,
        `${path}.name`,
        'name the file inside the model folder',
      );
    if (seen.has(f.name))
      throw badInput(`${path}.name "${f.name}" is listed twice`, `${path}.name`, 'list every file once');
    seen.add(f.name);
    if (typeof f.hash !== 'string' || !HASH.test(f.hash))
      throw badInput(
        `${path}.hash must be a sha256 (64 lowercase hex characters)`,
        `${path}.hash`,
        'store the bytes with putArtifact() and pass the hash it returns',
      );
    checkInteger(f.size, `${path}.size`, 0, 'pass the size in bytes');
    return { name: f.name, hash: f.hash, size: f.size as number };
  });
}

function checkGates(gates: unknown): GateOutcome[] {
  if (!Array.isArray(gates))
    throw badInput('gates must be an array', 'gates', 'pass [{ gate, passed, summary, details }, …]');
  return gates.map((g, i) => {
    const path = `gates[${i}]`;
    if (!isPlainObject(g))
      throw badInput(`${path} must be an object`, path, 'pass { gate, passed, summary }');
    checkText(g.gate, `${path}.gate`, 'name the gate, e.g. "significance"');
    if (typeof g.passed !== 'boolean')
      throw badInput(`${path}.passed must be true or false`, `${path}.passed`, 'say whether the gate passed');
    if (typeof g.summary !== 'string')
      throw badInput(
        `${path}.summary must be a string`,
        `${path}.summary`,
        'describe the numbers in one line',
      );
    if (g.details !== undefined && !isPlainObject(g.details))
      throw badInput(`${path}.details must be an object`, `${path}.details`, 'pass the numbers as an object');
    return { gate: g.gate, passed: g.passed, summary: g.summary, details: g.details ?? {} } as GateOutcome;
  });
}

function checkRecordFields(record: unknown): {
  forced: boolean;
  reason: string | null;
  gates: GateOutcome[];
  actor: string;
} {
  if (!isPlainObject(record))
    throw badInput(
      'the promotion record must be an object',
      'record',
      'pass { forced, reason, gates, actor }',
    );
  const forced = record.forced ?? false;
  if (typeof forced !== 'boolean')
    throw badInput('forced must be true or false', 'forced', 'pass forced: true only for --force');
  return {
    forced,
    reason: optionalText(record.reason, 'reason'),
    gates: checkGates(record.gates ?? []),
    actor: checkText(record.actor, 'actor', 'pass who promoted, e.g. localActor()'),
  };
}

function toModelVersion(row: Selectable<ModelVersionsTable>, aliases: string[]): ModelVersion {
  return {
    tenant: row.tenant,
    name: row.name,
    version: Number(row.version),
    architecture: row.architecture,
    task: row.task as TaskKind,
    runId: row.run_id,
    source: row.source,
    files: JSON.parse(row.files),
    config: JSON.parse(row.config),
    metrics: JSON.parse(row.metrics),
    datasetVersions: JSON.parse(row.dataset_versions),
    description: row.description,
    createdAt: row.created_at,
    createdBy: row.created_by,
    aliases,
  };
}

function toPromotion(row: Selectable<PromotionsTable>): PromotionRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    version: Number(row.version),
    alias: row.alias,
    previousVersion: row.previous_version == null ? null : Number(row.previous_version),
    outcome: row.outcome as PromotionRecord['outcome'],
    forced: Number(row.forced) === 1,
    reason: row.reason,
    gates: JSON.parse(row.gates),
    actor: row.actor,
    createdAt: row.created_at,
  };
}

/** `production → 3, staging → 4` for messages. */
function describeAliases(aliases: Record<string, number>): string {
  const entries = Object.entries(aliases);
  return entries.length === 0
    ? 'no aliases'
    : `aliases: ${entries.map(([a, v]) => `${a} → ${v}`).join(', ')}`;
}

/** The model registry in the SQL store: names, immutable versions, aliases and the promotion log. */
export class SqlRegistryStore implements RegistryStore {
  constructor(private readonly ctx: SqlContext) {}

  async registerVersion(input: NewModelVersion): Promise<ModelVersion> {
    if (!isPlainObject(input))
      throw badInput('the new version must be an object', '', 'pass { tenant, name, architecture, task, … }');
    const tenant = checkTenantId(input.tenant);
    const name = checkModelName(input.name);
    const architecture = checkText(input.architecture, 'architecture', 'pass the architecture, e.g. crf.v1');
    const task = checkChoice(input.task, TASKS, 'task');
    const runId = optionalText(input.runId, 'runId');
    const source = checkText(input.source, 'source', 'pass run:<id> or dir:<absolute path>');
    const files = checkFiles(input.files);
    const config = input.config ?? {};
    if (!isPlainObject(config))
      throw badInput('config must be an object', 'config', 'pass the filled training config');
    canonicalJson(config, 'config');
    const metrics = checkMetrics(input.metrics ?? {}, 'metrics');
    const datasetVersions = input.datasetVersions ?? [];
    if (!Array.isArray(datasetVersions) || datasetVersions.some((d) => typeof d !== 'string'))
      throw badInput(
        'datasetVersions must be an array of ids',
        'datasetVersions',
        'pass e.g. ["shop@3f9a1b2c4d5e"]',
      );
    const description = optionalText(input.description, 'description');
    const createdBy = checkText(input.createdBy, 'createdBy', 'pass who registers, e.g. localActor()');

    const db = this.ctx.db();
    await requireTenant(db, tenant, this.ctx.location);
    const now = new Date().toISOString();
    return db.transaction().execute(async (trx) => {
      await trx
        .insertInto('registered_models')
        .values({ tenant, name, task, last_version: 0, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['tenant', 'name']).doNothing())
        .execute();
      // The update locks the model's row (PostgreSQL) or holds the write lock (SQLite) until commit, so
      // concurrent registrations of one name queue here and get consecutive numbers.
      const model = await trx
        .updateTable('registered_models')
        .set((eb) => ({ last_version: eb('last_version', '+', 1), updated_at: now }))
        .where('tenant', '=', tenant)
        .where('name', '=', name)
        .returning(['last_version', 'task'])
        .executeTakeFirstOrThrow();
      if (model.task !== task) {
        throw new SapphireError(
          'CONFLICT',
          `model "${name}" of tenant "${tenant}" is a ${model.task} model; a ${task} model cannot become a version of it`,
          { path: 'task', hint: 'register it under another name' },
        );
      }
      const row = {
        tenant,
        name,
        version: Number(model.last_version),
        architecture,
        task,
        run_id: runId,
        source,
        files: JSON.stringify(files),
        config: JSON.stringify(config),
        metrics: JSON.stringify(metrics),
        dataset_versions: JSON.stringify(datasetVersions),
        description,
        created_at: now,
        created_by: createdBy,
      };
      await trx.insertInto('model_versions').values(row).execute();
      return toModelVersion(row, []);
    });
  }

  async listModels(tenant: string): Promise<RegisteredModel[]> {
    checkTenantId(tenant);
    const db = this.ctx.db();
    const models = await db
      .selectFrom('registered_models')
      .selectAll()
      .where('tenant', '=', tenant)
      .orderBy('name')
      .execute();
    if (models.length === 0) return [];
    const counts = await db
      .selectFrom('model_versions')
      .select((eb) => ['name', eb.fn.countAll().as('count')])
      .where('tenant', '=', tenant)
      .groupBy('name')
      .execute();
    const countOf = new Map(counts.map((c) => [c.name, Number(c.count)]));
    const aliases = await this.aliasesOf(db, tenant);
    return models.map((m) => ({
      tenant: m.tenant,
      name: m.name,
      task: m.task as TaskKind,
      versionCount: countOf.get(m.name) ?? 0,
      latestVersion: Number(m.last_version),
      aliases: aliases.get(m.name) ?? {},
      createdAt: m.created_at,
      updatedAt: m.updated_at,
    }));
  }

  async listVersions(tenant: string, name: string): Promise<ModelVersion[]> {
    checkTenantId(tenant);
    const db = this.ctx.db();
    await this.requireModel(db, tenant, name);
    const rows = await db
      .selectFrom('model_versions')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .execute();
    const aliases = (await this.aliasesOf(db, tenant, name)).get(name) ?? {};
    return rows.map((r) => toModelVersion(r, aliasesAt(aliases, Number(r.version))));
  }

  async resolveVersion(tenant: string, ref: string): Promise<ModelVersion> {
    checkTenantId(tenant);
    if (typeof ref !== 'string' || ref.trim() === '')
      throw badInput(
        `invalid model reference ${JSON.stringify(ref)}`,
        'ref',
        'use name, name@<version> or name@<alias>, e.g. fashion-ner@production',
      );
    const at = ref.indexOf('@');
    const name = checkModelName((at < 0 ? ref : ref.slice(0, at)).trim(), 'ref');
    const selector = at < 0 ? null : ref.slice(at + 1).trim();
    const db = this.ctx.db();
    const model = await this.requireModel(db, tenant, name);
    const aliases = (await this.aliasesOf(db, tenant, name)).get(name) ?? {};
    let version: number | undefined;
    if (selector === null) version = aliases[PRODUCTION_ALIAS] ?? Number(model.last_version);
    else if (/^\d+$/.test(selector)) version = Number(selector);
    else if (selector in aliases) version = aliases[selector];
    else if (selector === 'latest') version = Number(model.last_version);
    const row =
      version === undefined
        ? undefined
        : await db
            .selectFrom('model_versions')
            .selectAll()
            .where('tenant', '=', tenant)
            .where('name', '=', name)
            .where('version', '=', version)
            .executeTakeFirst();
    if (!row) {
      const what =
        selector !== null && /^\d+$/.test(selector) ? `version ${selector}` : `alias "${selector}"`;
      throw new NotFoundError(
        `model "${name}" of tenant "${tenant}" has no ${what} (versions 1–${model.last_version}; ${describeAliases(aliases)})`,
        { path: 'ref', hint: showHint(name) },
      );
    }
    return toModelVersion(row, aliasesAt(aliases, Number(row.version)));
  }

  async setAlias(
    tenant: string,
    name: string,
    alias: string,
    version: number,
    record?: Omit<NewPromotionRecord, 'tenant' | 'name' | 'version' | 'alias' | 'outcome'>,
  ): Promise<PromotionRecord | null> {
    checkTenantId(tenant);
    checkModelName(name);
    checkAlias(alias);
    checkInteger(version, 'version', 1, 'pass a version number listed by `sapphire models show`');
    const fields = record === undefined ? null : checkRecordFields(record);
    return this.ctx
      .db()
      .transaction()
      .execute(async (trx) => {
        await this.requireVersion(trx, tenant, name, version);
        const previous = await this.currentAlias(trx, tenant, name, alias);
        const now = new Date().toISOString();
        await trx
          .insertInto('model_aliases')
          .values({ tenant, name, alias, version, updated_at: now })
          .onConflict((oc) =>
            oc.columns(['tenant', 'name', 'alias']).doUpdateSet((eb) => ({
              version: eb.ref('excluded.version'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
        await trx
          .updateTable('registered_models')
          .set({ updated_at: now })
          .where('tenant', '=', tenant)
          .where('name', '=', name)
          .execute();
        if (fields === null) return null;
        return this.insertPromotion(trx, {
          tenant,
          name,
          version,
          alias,
          outcome: 'promoted',
          previousVersion: previous,
          ...fields,
        });
      });
  }

  async removeAlias(tenant: string, name: string, alias: string): Promise<void> {
    checkTenantId(tenant);
    checkAlias(alias);
    const db = this.ctx.db();
    await this.requireModel(db, tenant, name);
    const result = await db
      .deleteFrom('model_aliases')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .where('alias', '=', alias)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) {
      const aliases = (await this.aliasesOf(db, tenant, name)).get(name) ?? {};
      throw new NotFoundError(
        `model "${name}" of tenant "${tenant}" has no alias "${alias}" (${describeAliases(aliases)})`,
        {
          path: 'alias',
          hint: showHint(name),
        },
      );
    }
  }

  async recordPromotion(record: NewPromotionRecord): Promise<PromotionRecord> {
    if (!isPlainObject(record))
      throw badInput(
        'the promotion record must be an object',
        '',
        'pass { tenant, name, version, alias, … }',
      );
    const tenant = checkTenantId(record.tenant);
    const name = checkModelName(record.name);
    const alias = checkAlias(record.alias);
    const version = checkInteger(record.version, 'version', 1, 'pass a version number');
    const outcome = checkChoice(record.outcome, ['promoted', 'refused'] as const, 'outcome');
    const fields = checkRecordFields(record);
    return this.ctx
      .db()
      .transaction()
      .execute(async (trx) => {
        await this.requireVersion(trx, tenant, name, version);
        const previous = await this.currentAlias(trx, tenant, name, alias);
        return this.insertPromotion(trx, {
          tenant,
          name,
          version,
          alias,
          outcome,
          previousVersion: previous,
          ...fields,
        });
      });
  }

  async listPromotions(tenant: string, name?: string): Promise<PromotionRecord[]> {
    checkTenantId(tenant);
    let query = this.ctx
      .db()
      .selectFrom('promotions')
      .selectAll()
      .where('tenant', '=', tenant)
      .orderBy('seq', 'desc');
    if (name !== undefined) query = query.where('name', '=', name);
    return (await query.execute()).map(toPromotion);
  }

  async listAliases(): Promise<AliasPointer[]> {
    const rows = await this.ctx
      .db()
      .selectFrom('model_aliases')
      .selectAll()
      .orderBy('tenant')
      .orderBy('name')
      .orderBy('alias')
      .execute();
    return rows.map((r) => ({
      tenant: r.tenant,
      name: r.name,
      alias: r.alias,
      version: Number(r.version),
      updatedAt: r.updated_at,
    }));
  }

  private async insertPromotion(
    db: SqlExecutor,
    record: Omit<PromotionRecord, 'id' | 'createdAt'>,
  ): Promise<PromotionRecord> {
    const full: PromotionRecord = { id: shortId('pr'), createdAt: new Date().toISOString(), ...record };
    await db
      .insertInto('promotions')
      .values({
        id: full.id,
        tenant: full.tenant,
        name: full.name,
        version: full.version,
        alias: full.alias,
        previous_version: full.previousVersion,
        outcome: full.outcome,
        forced: full.forced ? 1 : 0,
        reason: full.reason,
        gates: lenientJson(full.gates),
        actor: full.actor,
        created_at: full.createdAt,
      })
      .execute();
    return { ...full, gates: JSON.parse(lenientJson(full.gates)) };
  }

  private async currentAlias(
    db: SqlExecutor,
    tenant: string,
    name: string,
    alias: string,
  ): Promise<number | null> {
    const row = await db
      .selectFrom('model_aliases')
      .select('version')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .where('alias', '=', alias)
      .executeTakeFirst();
    return row ? Number(row.version) : null;
  }

  /** alias → version per model name of a tenant (optionally of one name). */
  private async aliasesOf(
    db: SqlExecutor,
    tenant: string,
    name?: string,
  ): Promise<Map<string, Record<string, number>>> {
    let query = db
      .selectFrom('model_aliases')
      .select(['name', 'alias', 'version'])
      .where('tenant', '=', tenant)
      .orderBy('alias');
    if (name !== undefined) query = query.where('name', '=', name);
    const byName = new Map<string, Record<string, number>>();
    for (const r of await query.execute()) {
      const entry = byName.get(r.name) ?? {};
      entry[r.alias] = Number(r.version);
      byName.set(r.name, entry);
    }
    return byName;
  }

  /** The model's row; NotFoundError naming the tenant's models otherwise. */
  private async requireModel(db: SqlExecutor, tenant: string, name: string) {
    const row =
      typeof name === 'string'
        ? await db
            .selectFrom('registered_models')
            .selectAll()
            .where('tenant', '=', tenant)
            .where('name', '=', name)
            .executeTakeFirst()
        : undefined;
    if (row) return row;
    const known = await db
      .selectFrom('registered_models')
      .select('name')
      .where('tenant', '=', tenant)
      .orderBy('name')
      .limit(20)
      .execute();
    const list =
      known.length > 0 ? `registered: ${known.map((k) => k.name).join(', ')}` : 'none registered yet';
    throw new NotFoundError(`no model "${name}" for tenant "${tenant}" (${list})`, {
      path: 'name',
      hint:
        known.length > 0 ? MODELS_HINT : 'register one with `sapphire models register <run> --name <name>`',
    });
  }

  private async requireVersion(
    db: SqlExecutor,
    tenant: string,
    name: string,
    version: number,
  ): Promise<void> {
    const model = await this.requireModel(db, tenant, name);
    const row = await db
      .selectFrom('model_versions')
      .select('version')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!row)
      throw new NotFoundError(
        `model "${name}" of tenant "${tenant}" has no version ${version} (versions 1–${model.last_version})`,
        { path: 'version', hint: showHint(name) },
      );
  }
}

function aliasesAt(aliases: Record<string, number>, version: number): string[] {
  return Object.entries(aliases)
    .filter(([, v]) => v === version)
    .map(([a]) => a)
    .sort();
}
