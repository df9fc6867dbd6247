import type { Selectable } from 'kysely';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import type { OverridesTable } from './database.ts';
import type {
  NewOverride,
  Override,
  OverrideAction,
  OverrideMatch,
  OverrideStore,
  OverrideTarget,
} from './serving-store.ts';
import {
  badInput,
  checkChoice,
  checkModelName,
  checkTenantId,
  checkText,
  isPlainObject,
  optionalText,
  requireTenant,
  type SqlContext,
  shortId,
} from './sql-common.ts';

const ACTIONS: readonly OverrideAction[] = ['always', 'never'];
const MATCHES: readonly OverrideMatch[] = ['exact', 'phrase', 'regex'];
const TARGETS: readonly OverrideTarget[] = ['class', 'entity'];
const REGEX_FLAGS = 'imsu';
const OVERRIDES_HINT = 'run `sapphire overrides ls --all` to see the rules and their ids';

function toOverride(row: Selectable<OverridesTable>): Override {
  return {
    id: row.id,
    tenant: row.tenant,
    model: row.model,
    action: row.action as OverrideAction,
    match: row.match_type as OverrideMatch,
    pattern: row.pattern,
    flags: row.flags,
    target: row.target as OverrideTarget,
    label: row.label,
    note: row.note,
    createdBy: row.created_by,
    createdAt: row.created_at,
    removedBy: row.removed_by,
    removedAt: row.removed_at,
    hits: Number(row.hits),
  };
}

/** Checks the flags (a subset of `imsu`, each once, only for regex rules) and that a regex compiles. */
function checkPattern(match: OverrideMatch, pattern: string, flags: unknown): string {
  if (flags !== undefined && typeof flags !== 'string')
    throw badInput('flags must be a string such as "i"', 'flags', `use letters from "${REGEX_FLAGS}"`);
  const given = flags ?? '';
  if (given !== '' && match !== 'regex')
    throw badInput(
      `flags "${given}" only apply to regex rules, not to ${match} rules`,
      'flags',
      match === 'phrase' ? 'phrase rules are already case-insensitive; drop the flags' : 'drop the flags',
    );
  for (const [i, flag] of [...given].entries()) {
    if (!REGEX_FLAGS.includes(flag) || given.indexOf(flag) !== i)
      throw badInput(
        `flags "${given}" are not allowed: "${flag}" is ${REGEX_FLAGS.includes(flag) ? 'repeated' : 'unknown'}`,
        'flags',
        `use each of "${REGEX_FLAGS}" at most once (i: ignore case, m: multiline, s: dot matches newlines, u: unicode)`,
      );
  }
  if (match === 'regex') {
    try {
      new RegExp(pattern, given);
    } catch (err) {
      throw badInput(
        `pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(err as Error).message}`,
        'pattern',
        'fix the regular expression (JavaScript syntax), or use a phrase rule',
      );
    }
  }
  return given;
}

/** Override rules in the SQL store; removed rules stay (with who/when) and the revision counts adds and removals. */
export class SqlOverrideStore implements OverrideStore {
  constructor(private readonly ctx: SqlContext) {}

  async addOverride(input: NewOverride): Promise<Override> {
    if (!isPlainObject(input))
      throw badInput(
        'the override must be an object',
        '',
        'pass { tenant, model, action, match, pattern, … }',
      );
    const tenant = checkTenantId(input.tenant);
    const model = checkModelName(input.model, 'model');
    const action = checkChoice(input.action, ACTIONS, 'action');
    const match = checkChoice(input.match, MATCHES, 'match');
    const pattern = checkText(
      input.pattern,
      'pattern',
      'pass the text, phrase or regular expression to match',
    );
    const flags = checkPattern(match, pattern, input.flags);
    const target = checkChoice(input.target, TARGETS, 'target');
    const label = checkText(input.label, 'label', 'pass the class or entity type the rule is about');
    const note = optionalText(input.note, 'note');
    const createdBy = checkText(input.createdBy, 'createdBy', 'pass who adds the rule, e.g. localActor()');
    const db = this.ctx.db();
    await requireTenant(db, tenant, this.ctx.location);
    const row = {
      id: shortId('ov'),
      tenant,
      model,
      action,
      match_type: match,
      pattern,
      flags,
      target,
      label,
      note,
      created_by: createdBy,
      created_at: new Date().toISOString(),
      removed_by: null,
      removed_at: null,
    };
    await db.insertInto('overrides').values(row).execute();
    return toOverride({ ...row, seq: 0, hits: 0 });
  }

  async listOverrides(
    tenant: string,
    options: { model?: string; includeRemoved?: boolean } = {},
  ): Promise<Override[]> {
    checkTenantId(tenant);
    let query = this.ctx.db().selectFrom('overrides').selectAll().where('tenant', '=', tenant).orderBy('seq');
    if (options.model !== undefined) query = query.where('model', '=', options.model);
    if (options.includeRemoved !== true) query = query.where('removed_at', 'is', null);
    return (await query.execute()).map(toOverride);
  }

  async removeOverride(tenant: string, id: string, actor: string): Promise<Override> {
    checkTenantId(tenant);
    const by = checkText(actor, 'actor', 'pass who removes the rule, e.g. localActor()');
    const db = this.ctx.db();
    const found = async () =>
      typeof id === 'string'
        ? db
            .selectFrom('overrides')
            .selectAll()
            .where('tenant', '=', tenant)
            .where('id', '=', id)
            .executeTakeFirst()
        : undefined;
    const row = await found();
    if (!row)
      throw new NotFoundError(`no override "${String(id)}" for tenant "${tenant}"`, {
        path: 'id',
        hint: OVERRIDES_HINT,
      });
    const removedAt = new Date().toISOString();
    const result = await db
      .updateTable('overrides')
      .set({ removed_by: by, removed_at: removedAt })
      .where('id', '=', id)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      const current = (await found()) ?? row;
      throw new SapphireError(
        'CONFLICT',
        `override ${id} was already removed by ${current.removed_by} at ${current.removed_at}`,
        { path: 'id', hint: OVERRIDES_HINT },
      );
    }
    return toOverride({ ...row, removed_by: by, removed_at: removedAt });
  }

  async overrideRevision(tenant: string, model: string): Promise<number> {
    checkTenantId(tenant);
    const row = await this.ctx
      .db()
      .selectFrom('overrides')
      .select((eb) => [eb.fn.countAll().as('added'), eb.fn.count('removed_at').as('removed')])
      .where('tenant', '=', tenant)
      .where('model', '=', model)
      .executeTakeFirst();
    return Number(row?.added ?? 0) + Number(row?.removed ?? 0);
  }

  async addOverrideHits(hits: ReadonlyMap<string, number>): Promise<void> {
    if (!(hits instanceof Map))
      throw badInput('hits must be a Map of rule id → count', 'hits', 'pass new Map([[id, n]])');
    const counts = [...hits].filter(
      ([id, n]) => typeof id === 'string' && typeof n === 'number' && Number.isSafeInteger(n) && n > 0,
    );
    if (counts.length === 0) return;
    await this.ctx
      .db()
      .transaction()
      .execute(async (trx) => {
        for (const [id, n] of counts) {
          await trx
            .updateTable('overrides')
            .set((eb) => ({ hits: eb('hits', '+', n) }))
            .where('id', '=', id)
            .execute();
        }
      });
  }
}
