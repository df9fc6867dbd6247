import type { Command } from 'commander';
import { cliTenant, localActor } from '../../core/actor.ts';
import { NotFoundError, SapphireError } from '../../core/errors.ts';
import { renderTable } from '../../core/table.ts';
import { validateOverride } from '../../serve/overrides-engine.ts';
import type { NewOverride, Override, OverrideMatch, OverrideTarget } from '../../store/serving-store.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';

const TENANT_HELP = 'tenant (default: $SAPPHIRE_TENANT, else "default")';

interface AddFlags {
  tenant?: string;
  always?: boolean;
  never?: boolean;
  label: string;
  exact?: string;
  phrase?: string;
  regex?: string;
  flags?: string;
  entity?: boolean;
  class?: boolean;
  note?: string;
}

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '–';
}

/** The rule's pattern as people read it: `"text"` for exact and phrase, `/regex/flags` for regex. */
export function describePattern(rule: Pick<Override, 'match' | 'pattern' | 'flags'>): string {
  return rule.match === 'regex' ? `/${rule.pattern}/${rule.flags}` : JSON.stringify(rule.pattern);
}

/** One line about a rule: `never BRAND (entity) when the phrase "apple pie" matches`. */
export function describeOverride(rule: Override): string {
  const what = { exact: 'the text is exactly', phrase: 'the phrase', regex: 'the regex' }[rule.match];
  const tail = rule.match === 'exact' ? '' : ' matches';
  return `${rule.action} ${rule.label} (${rule.target}) when ${what} ${describePattern(rule)}${tail}`;
}

function ruleFromFlags(opts: AddFlags, model: string, tenant: string, task: string): NewOverride {
  if (opts.always === opts.never)
    throw new SapphireError('BAD_INPUT', 'say whether the rule gives the label --always or --never', {
      path: 'action',
      hint: 'e.g. sapphire overrides add shop --never --label BRAND --phrase "apple pie"',
    });
  const given = (['exact', 'phrase', 'regex'] as OverrideMatch[]).filter((m) => opts[m] !== undefined);
  if (given.length !== 1)
    throw new SapphireError(
      'BAD_INPUT',
      given.length === 0
        ? 'the rule needs a pattern: --exact, --phrase or --regex'
        : `give one pattern, not ${given.map((m) => `--${m}`).join(' and ')}`,
      {
        path: 'match',
        hint: '--exact "<whole text>", --phrase "<words, any case>" or --regex "<JavaScript regex>"',
      },
    );
  if (opts.entity && opts.class)
    throw new SapphireError('BAD_INPUT', 'a rule targets an --entity type or a --class, not both', {
      path: 'target',
      hint: 'leave both out to use the task: entities for ner, classes otherwise',
    });
  const match = given[0]!;
  const target: OverrideTarget = opts.entity
    ? 'entity'
    : opts.class
      ? 'class'
      : task === 'ner'
        ? 'entity'
        : 'class';
  return {
    tenant,
    model,
    action: opts.always ? 'always' : 'never',
    match,
    pattern: opts[match]!,
    flags: opts.flags ?? '',
    target,
    label: opts.label,
    note: opts.note ?? null,
    createdBy: localActor(),
  };
}

function renderOverrides(rules: readonly Override[], withRemoved: boolean): string {
  const header = ['id', 'model', 'action', 'match', 'pattern', 'target', 'label', 'hits', 'added', 'by'];
  if (withRemoved) header.push('removed');
  return renderTable(
    rules.map((r) => {
      const row: (string | number)[] = [
        r.id,
        r.model,
        r.action,
        r.match,
        describePattern(r),
        r.target,
        r.label,
        r.hits,
        when(r.createdAt),
        r.createdBy,
      ];
      if (withRemoved) row.push(r.removedAt ? `${when(r.removedAt)} by ${r.removedBy}` : '–');
      return row;
    }),
    { header, maxWidth: [undefined, undefined, undefined, undefined, 40] },
  );
}

/** Registers `sapphire overrides …`: add, ls, rm (rules applied after the model by the service). */
export function registerOverrideCommands(program: Command): void {
  const overrides = program
    .command('overrides')
    .description(
      '"always"/"never" rules applied after a served model: add, list, remove (each hit is counted)',
    );

  overrides
    .command('add')
    .description('add a rule: always or never give a label when the text matches')
    .argument('<model>', 'registered model name the rule applies to')
    .option('--always', 'give the label when the rule matches')
    .option('--never', 'never give the label when the rule matches')
    .requiredOption('--label <label>', 'the class or entity type')
    .option('--exact <text>', 'match when the whole text (trimmed) is exactly this, case-sensitive')
    .option('--phrase <words>', 'match these whole words anywhere, in any case')
    .option('--regex <pattern>', 'match a JavaScript regular expression')
    .option('--flags <flags>', 'regex flags: any of i, m, s, u')
    .option('--entity', 'the label is an entity type (default for ner projects)')
    .option('--class', 'the label is a class (default for classify and multilabel projects)')
    .option('--note <text>', 'why the rule exists')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (model: string, opts: AddFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const tenant = cliTenant(opts.tenant);
      await withProject(flags, [], async (ctx) => {
        const input = ruleFromFlags(opts, model, tenant, ctx.card.task);
        validateOverride(input, ctx.card.task);
        const registered = await ctx.store.registry.listModels(tenant);
        if (!registered.some((m) => m.name === model)) {
          const names = registered.map((m) => m.name);
          throw new NotFoundError(`no registered model "${model}" for tenant ${tenant}`, {
            path: 'model',
            hint: names.length
              ? `registered models: ${names.join(', ')} (see \`sapphire models ls\`)`
              : 'register one first: sapphire models register <run> --name <name>',
          });
        }
        const labels = ctx.card.labels;
        if (labels.length > 0 && !labels.includes(input.label) && !flags.json)
          note(`warning: label ${input.label} is not in the project's labels (${labels.join(', ')})`);
        const rule = await ctx.store.overrides.addOverride(input);
        if (flags.json) return printJson(rule);
        say(`Added override ${rule.id} to ${model} (tenant ${tenant}): ${describeOverride(rule)}.`);
        note('A running `sapphire serve` picks it up without a restart; `sapphire monitor` counts its hits.');
      });
    });

  overrides
    .command('ls')
    .description("list a tenant's override rules (all models, or one), with their hits")
    .argument('[model]', 'only the rules of this model')
    .option('--all', 'include removed rules (with who removed them, when)')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (model: string | undefined, opts: { all?: boolean; tenant?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const tenant = cliTenant(opts.tenant);
      await withProject(flags, [], async (ctx) => {
        const rules = await ctx.store.overrides.listOverrides(tenant, {
          ...(model ? { model } : {}),
          includeRemoved: opts.all === true,
        });
        if (flags.json) return printJson(rules);
        if (rules.length === 0)
          return say(
            `No ${opts.all ? '' : 'active '}overrides for ${model ? `model ${model} of ` : ''}tenant ${tenant}.`,
          );
        say(renderOverrides(rules, opts.all === true));
      });
    });

  overrides
    .command('rm')
    .description('remove a rule (it is kept in the history with who removed it, when)')
    .argument('<id>', 'the rule id, as listed by `sapphire overrides ls`')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (id: string, opts: { tenant?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const tenant = cliTenant(opts.tenant);
      await withProject(flags, [], async (ctx) => {
        const rule = await ctx.store.overrides.removeOverride(tenant, id, localActor());
        if (flags.json) return printJson(rule);
        say(`Removed override ${rule.id} of ${rule.model}: ${describeOverride(rule)} (${rule.hits} hits).`);
      });
    });
}
