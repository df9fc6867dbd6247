import { basename, join, relative, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { cliTenant, localActor } from '../../core/actor.ts';
import { SapphireError } from '../../core/errors.ts';
import { renderTable } from '../../core/table.ts';
import type { TaskKind } from '../../data/types.ts';
import {
  DEFAULT_ATTEMPTS,
  type QueuedRetrain,
  queuedRetrainOf,
  type RetrainJobData,
} from '../../jobs/queue-config.ts';
import { retrainModel } from '../../jobs/retrain.ts';
import { listModels as listArchitectures } from '../../models/index.ts';
import { promoteVersion } from '../../registry/promotion.ts';
import { checkAlias, checkModelName, registerModelVersion } from '../../registry/register.ts';
import {
  type GateOutcome,
  type ModelVersion,
  PRODUCTION_ALIAS,
  type PromotionRecord,
} from '../../store/serving-store.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';
import { type QueueFlags, queueFrom, withQueueFlags } from '../queue-flags.ts';
import { registerExportOnnxCommand } from './export-onnx.ts';

interface TenantFlags {
  tenant?: string;
}

const TENANT_HELP = 'tenant (default: $SAPPHIRE_TENANT, else "default")';

function command(cmd: Command): string {
  return ['sapphire', ...process.argv.slice(2)].join(' ').trim() || cmd.name();
}

/** One gate as a line: ✓/✗, its name and its numbers. */
export function formatGate(gate: GateOutcome): string {
  return `${gate.passed ? '✓' : '✗'} ${gate.gate}: ${gate.summary}`;
}

function when(iso: string): string {
  return iso.replace('T', ' ').slice(0, 16);
}

/** The version's score on the project's primary metric (test, else dev), else its first test metric. */
function primaryMetric(v: ModelVersion, primary: string): string {
  const metrics = Object.entries(v.metrics);
  const entry =
    metrics.find(([k]) => k === `test.${primary}`) ??
    metrics.find(([k]) => k === `dev.${primary}`) ??
    metrics.find(([k]) => k.startsWith('test.')) ??
    metrics[0];
  return entry ? `${entry[0]} ${entry[1].toFixed(3)}` : '–';
}

function renderPromotions(records: readonly PromotionRecord[]): string {
  if (records.length === 0) return 'Promotions: none yet';
  return renderTable(
    records.map((r) => [
      when(r.createdAt),
      `v${r.version} → ${r.alias}`,
      r.outcome + (r.forced ? ' (forced)' : ''),
      r.previousVersion === null ? '–' : `v${r.previousVersion}`,
      r.actor,
      r.reason ?? '',
    ]),
    { title: 'Recent promotions', header: ['when', 'what', 'outcome', 'before', 'by', 'reason'] },
  );
}

function renderVersion(v: ModelVersion, promotions: readonly PromotionRecord[]): string {
  const lines = [
    `${v.name}@${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`,
    `  architecture: ${v.architecture} (${v.task})`,
    `  source:       ${v.source}`,
    `  registered:   ${when(v.createdAt)} by ${v.createdBy}`,
    `  datasets:     ${v.datasetVersions.join(', ') || '–'}`,
    `  files:        ${v.files.length} (${v.files.reduce((n, f) => n + f.size, 0)} bytes)`,
  ];
  if (v.description) lines.push(`  description:  ${v.description}`);
  const metrics = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length)
    lines.push(
      '',
      renderTable(
        metrics.map(([k, x]) => [k, x.toFixed(4)]),
        { header: ['metric', 'value'] },
      ),
    );
  const mine = promotions.filter((p) => p.version === v.version).slice(0, 10);
  if (mine.length) {
    lines.push('', renderPromotions(mine));
    const last = mine[0]!;
    if (last.gates.length)
      lines.push('', `Gates of the last attempt (${last.outcome}):`, ...last.gates.map(formatGate));
  }
  return lines.join('\n');
}

/** Splits `name@version` where the version must be a number. */
function parseVersionRef(ref: string): { name: string; version: number } {
  const at = ref.lastIndexOf('@');
  const version = Number(ref.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(version) || version < 1)
    throw new SapphireError('BAD_INPUT', `"${ref}" does not name a version`, {
      hint: 'write <name>@<version number>, e.g. shop@3 (see `sapphire models show <name>`)',
    });
  return { name: ref.slice(0, at), version };
}

/** Registers `sapphire models …` (the registry and the architectures), `promote` and `retrain`. */
export function registerRegistryCommands(program: Command): void {
  const models = program
    .command('models')
    .description('registered models: versions, aliases and promotions; and the architectures to train');

  models
    .command('architectures')
    .description('list the model architectures that can be trained')
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const list = listArchitectures();
      if (flags.json) return printJson(list);
      say(
        renderTable(
          list.map((m) => [m.name, m.description]),
          { header: ['architecture', 'what it is'] },
        ),
      );
    });

  registerExportOnnxCommand(models);

  models
    .command('import-onnx')
    .description(
      'import a Hugging Face ONNX token or sequence classifier (config.json, tokenizer.json, onnx/model.onnx) as a model folder',
    )
    .argument('<dir>', 'the exported model directory')
    .option('--name <name>', 'model folder name under models/ (default: the directory name)')
    .option('--out <dir>', 'write the model folder here instead of models/<name>')
    .addOption(
      new Option('--task <task>', 'when config.json does not say').choices(['ner', 'classify', 'multilabel']),
    )
    .option('--max-length <n>', 'longest input in sub-tokens (default: from the model files)', (v) =>
      Number.parseInt(v, 10),
    )
    .option('--force', 'replace an existing model folder')
    .action(
      async (
        dir: string,
        opts: { name?: string; out?: string; task?: TaskKind; maxLength?: number; force?: boolean },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        const { importOnnxModel } = await import('../../models/onnx/import-dir.ts');
        await withProject(flags, [], async (ctx) => {
          const name = opts.name ?? basename(resolve(dir));
          const result = await importOnnxModel({
            source: dir,
            out: opts.out ? resolve(opts.out) : join(ctx.dir, 'models', name),
            task: opts.task,
            projectTask: ctx.card.task,
            force: opts.force,
            maxLength: opts.maxLength,
          });
          if (flags.json) return printJson(result);
          say(`Imported ${result.source} as ${result.architecture} (${result.task}) into ${result.dir}.`);
          say(`  ${result.task === 'ner' ? 'entity types' : 'classes'}: ${result.labels.join(', ')}`);
          say(
            `  model outputs (id2label): ${result.outputs.length}; windows of at most ${result.maxLength} sub-tokens`,
          );
          say(
            `Evaluate it with: sapphire evaluate ${relative(process.cwd(), result.dir) || '.'} <dataset>:test`,
          );
          say(
            `Register it with: sapphire models register ${relative(process.cwd(), result.dir) || '.'} --name ${name}`,
          );
        });
      },
    );

  models
    .command('ls')
    .description("list the tenant's registered models with their versions and aliases")
    .option('--tenant <id>', TENANT_HELP)
    .action(async (opts: TenantFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const tenant = cliTenant(opts.tenant);
      await withProject(flags, [], async (ctx) => {
        const list = await ctx.store.registry.listModels(tenant);
        if (flags.json) return printJson(list);
        if (list.length === 0)
          return say(
            `No registered models for tenant ${tenant}. Register one: sapphire models register <run> --name <name>`,
          );
        say(
          renderTable(
            list.map((m) => [
              m.name,
              m.task,
              m.versionCount,
              `v${m.latestVersion}`,
              Object.entries(m.aliases)
                .map(([a, v]) => `${a}=v${v}`)
                .join(', ') || '–',
              when(m.updatedAt),
            ]),
            { header: ['name', 'task', 'versions', 'latest', 'aliases', 'updated'] },
          ),
        );
      });
    });

  models
    .command('show')
    .description('show a model (versions, aliases, metrics, recent promotions) or one version in detail')
    .argument('<ref>', 'name, or name@<version> for one version')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (ref: string, opts: TenantFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const tenant = cliTenant(opts.tenant);
      await withProject(flags, [], async (ctx) => {
        const registry = ctx.store.registry;
        if (ref.includes('@')) {
          const version = await registry.resolveVersion(tenant, ref);
          const promotions = await registry.listPromotions(tenant, version.name);
          if (flags.json)
            return printJson({
              version,
              promotions: promotions.filter((p) => p.version === version.version),
            });
          return say(renderVersion(version, promotions));
        }
        const versions = await registry.listVersions(tenant, ref);
        const model = (await registry.listModels(tenant)).find((m) => m.name === ref) ?? null;
        const promotions = (await registry.listPromotions(tenant, ref)).slice(0, 10);
        if (flags.json) return printJson({ ...model, name: ref, versions, promotions });
        const header = model
          ? `${ref} (${model.task}): ${model.versionCount} version(s); aliases: ${
              Object.entries(model.aliases)
                .map(([a, v]) => `${a}=v${v}`)
                .join(', ') || 'none'
            }`
          : ref;
        say(header);
        say('');
        say(
          renderTable(
            versions.map((v) => [
              `v${v.version}`,
              v.aliases.join(', ') || '–',
              v.architecture,
              primaryMetric(v, ctx.card.metrics.primary),
              v.source,
              when(v.createdAt),
              v.createdBy,
            ]),
            { header: ['version', 'aliases', 'architecture', 'metric', 'source', 'registered', 'by'] },
          ),
        );
        say('');
        say(renderPromotions(promotions));
      });
    });

  models
    .command('register')
    .description("register a run's model (or a model folder) as the next version of a named model")
    .argument('<source>', 'run id (or a unique part of one) or a model folder written by `sapphire train`')
    .requiredOption(
      '--name <name>',
      'model name, e.g. shop-ner (lowercase letters, digits, "_", "." and "-")',
    )
    .option('--description <text>', 'what this version is')
    .option('--tenant <id>', TENANT_HELP)
    .action(
      async (source: string, opts: TenantFlags & { name: string; description?: string }, cmd: Command) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        checkModelName(opts.name);
        const tenant = cliTenant(opts.tenant);
        await withProject(flags, [], async (ctx) => {
          const version = await registerModelVersion(ctx.store, {
            tenant,
            source,
            name: opts.name,
            description: opts.description ?? null,
            actor: localActor(),
            cwd: process.cwd(),
          });
          if (flags.json) return printJson(version);
          say(
            `Registered ${version.name}@${version.version} (${version.architecture}) from ${version.source}.`,
          );
          say(`Promote it with: sapphire promote ${version.name}@${version.version}`);
        });
      },
    );

  models
    .command('alias')
    .description(
      'point an alias (e.g. staging) at a version, without gates; production moves only by promote',
    )
    .argument('<ref>', 'name@<version>')
    .argument('<alias>', 'alias name, e.g. staging')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (ref: string, alias: string, opts: TenantFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const { name, version } = parseVersionRef(ref);
      checkAlias(alias);
      if (alias === PRODUCTION_ALIAS)
        throw new SapphireError('BAD_INPUT', `${PRODUCTION_ALIAS} moves only through the promotion gates`, {
          hint: `run \`sapphire promote ${ref}\` (add --force --reason "…" to override failed gates)`,
        });
      const tenant = cliTenant(opts.tenant);
      await withProject(flags, [], async (ctx) => {
        await ctx.store.registry.resolveVersion(tenant, ref);
        await ctx.store.registry.setAlias(tenant, name, alias, version);
        if (flags.json) return printJson({ tenant, name, alias, version });
        say(`${name}@${alias} → v${version}`);
      });
    });

  models
    .command('unalias')
    .description('remove an alias from a model')
    .argument('<name>', 'model name')
    .argument('<alias>', 'alias to remove')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (name: string, alias: string, opts: TenantFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      // Without production, `name` serves the newest version: an ungated, unrecorded promotion.
      if (alias === PRODUCTION_ALIAS)
        throw new SapphireError('BAD_INPUT', `${PRODUCTION_ALIAS} moves only through the promotion gates`, {
          hint: `promote another version instead: \`sapphire promote ${name}@<version>\` (add --force --reason "…" to override failed gates)`,
        });
      const tenant = cliTenant(opts.tenant);
      await withProject(flags, [], async (ctx) => {
        await ctx.store.registry.removeAlias(tenant, name, alias);
        if (flags.json) return printJson({ tenant, name, alias, removed: true });
        say(`Removed alias ${alias} of ${name}.`);
      });
    });

  program
    .command('promote')
    .description(
      'move an alias (default production) to a version once the gates of sapphire.yaml pass; exit 1 when refused',
    )
    .argument('<ref>', 'name@<version> to promote')
    .option('--to <alias>', 'alias to move', PRODUCTION_ALIAS)
    .option('--force', 'promote even when gates fail (recorded as forced, with --reason)')
    .option('--reason <text>', 'why (recorded with the promotion)')
    .option('--tenant <id>', TENANT_HELP)
    .action(
      async (
        ref: string,
        opts: TenantFlags & { to: string; force?: boolean; reason?: string },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        if (opts.force && !opts.reason?.trim())
          throw new SapphireError('BAD_INPUT', '--force needs a --reason', {
            hint: 'say why the gates are overridden, e.g. --force --reason "hotfix for the brand list"',
          });
        const tenant = cliTenant(opts.tenant);
        await withProject(flags, [], async (ctx) => {
          const result = await promoteVersion({
            store: ctx.store,
            card: ctx.card,
            projectDir: ctx.dir,
            tenant,
            ref,
            alias: opts.to,
            force: opts.force ?? false,
            reason: opts.reason ?? null,
            actor: localActor(),
            onProgress: flags.json ? undefined : (m) => note(`… ${m}`),
          });
          if (!result.promoted) process.exitCode = 1;
          if (flags.json) return printJson(result);
          const { record } = result;
          for (const gate of result.gates) say(formatGate(gate));
          const failed = result.gates.filter((g) => !g.passed).length;
          if (result.promoted)
            say(
              `\nPromoted ${record.name}@${record.version} to ${record.alias}` +
                (record.previousVersion === null ? '' : ` (was v${record.previousVersion})`) +
                (record.forced ? `, forced past ${failed} failed gate(s): ${record.reason}` : '') +
                '.',
            );
          else
            say(
              `\nRefused: ${failed} gate(s) failed; ${record.alias} stays ` +
                `${record.previousVersion === null ? 'unset' : `v${record.previousVersion}`}. ` +
                `Fix the model, or override with --force --reason "…" (recorded).`,
            );
        });
      },
    );

  const retrain = program
    .command('retrain')
    .description(
      'retrain the production version with accepted feedback corrections, then gate and promote it; exit 1 when refused',
    )
    .argument('<name>', 'registered model name')
    .option('--allow-no-feedback', 'retrain even when there are no accepted corrections')
    .option('--tenant <id>', TENANT_HELP);
  withQueueFlags(retrain)
    .option('--detach', 'with --queue: return once the retraining is queued')
    .action(
      async (
        name: string,
        opts: TenantFlags & QueueFlags & { allowNoFeedback?: boolean; detach?: boolean },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags & QueueFlags>();
        const tenant = cliTenant(opts.tenant);
        const queue = queueFrom(flags);
        if (opts.detach && !queue)
          throw new SapphireError('BAD_INPUT', '--detach needs --queue', {
            hint: 'e.g. --queue redis://127.0.0.1:6379 --detach, with `sapphire worker` processes running',
          });
        await withProject(flags, [], async (ctx) => {
          if (queue) {
            const { enqueue, followJob } = await import('../../jobs/queue.ts');
            const data: RetrainJobData = {
              card: ctx.card,
              tenant,
              name,
              actor: localActor(),
              allowNoFeedback: opts.allowNoFeedback ?? false,
              command: command(cmd),
            };
            // A retry resumes: the worker fails the dead attempt's run and retrainModel reuses its finished training.
            const job = await enqueue(queue, 'work', 'retrain', data, DEFAULT_ATTEMPTS);
            if (opts.detach) {
              if (flags.json) return printJson({ job: job.id });
              return say(
                `Queued retraining of ${name} as job ${job.id}; see \`sapphire runs ls --kind retrain\` for its run.`,
              );
            }
            const outcome = await followJob<QueuedRetrain>(queue, 'work', job.id as string, (p) => {
              if (!flags.json && 'message' in p) note(`… ${p.message}`);
            });
            if (!outcome.promoted) process.exitCode = 1;
            if (flags.json) return printJson({ job: job.id, ...outcome });
            for (const gate of outcome.gates) say(formatGate(gate));
            return say(
              outcome.promoted
                ? `\nRetrained ${name} on a worker: v${outcome.version} is now ${PRODUCTION_ALIAS} (was v${outcome.from}); run ${outcome.run}.`
                : `\nRetrained ${name} on a worker as v${outcome.version}, but it was not promoted; ${PRODUCTION_ALIAS} stays v${outcome.from} (run ${outcome.run}).`,
            );
          }
          const result = await retrainModel({
            store: ctx.store,
            card: ctx.card,
            projectDir: ctx.dir,
            tenant,
            name,
            actor: localActor(),
            allowNoFeedback: opts.allowNoFeedback ?? false,
            command: command(cmd),
            onProgress: flags.json ? undefined : (m) => note(`… ${m}`),
          });
          if (!result.promoted) process.exitCode = 1;
          if (flags.json)
            return printJson({ ...queuedRetrainOf(result), problems: result.problems, steps: result.steps });
          for (const gate of result.gates) say(formatGate(gate));
          say(
            result.promoted
              ? `\nRetrained ${name}: v${result.version.version} is now ${PRODUCTION_ALIAS} (was v${result.from.version}); run ${result.run.id}.`
              : `\nRetrained ${name} as v${result.version.version}, but it was not promoted; ${PRODUCTION_ALIAS} stays v${result.from.version} (run ${result.run.id}).`,
          );
        });
      },
    );
}
