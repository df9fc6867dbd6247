import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { cliTenant } from '../../core/actor.ts';
import { SapphireError } from '../../core/errors.ts';
import { exportRequests } from '../../monitor/export-requests.ts';
import { defaultCacheRoot } from '../../registry/materialize.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';

interface ExportFlags {
  drifted?: boolean;
  window?: string;
  limit: string;
  out?: string;
  tenant?: string;
}

/** Registers `sapphire requests export`: logged predictions (or only the drifted slice) as JSONL for annotation. */
export function registerRequestCommands(program: Command): void {
  const requests = program
    .command('requests')
    .description('the request log of served models: export logged predictions for annotation');

  requests
    .command('export')
    .description(
      'write logged predictions of a model as JSONL (text + prediction in meta) for annotation; --drifted: only the drifted slice',
    )
    .argument(
      '<name>',
      'registered model: name, name@version or name@alias (default: its production version)',
    )
    .option(
      '--drifted',
      'only predictions showing the drift `sapphire monitor <name>` reports (new tokens, OOV, …)',
    )
    .option('--window <window>', 'look back this far, e.g. 1h, 7d (default: monitoring.window)')
    .option('--limit <n>', 'most logged predictions to read (newest first)', '10000')
    .option('--out <file>', 'JSONL file to write (default: standard output)')
    .option('--tenant <id>', 'tenant (default: $SAPPHIRE_TENANT, else "default")')
    .addHelpText(
      'after',
      '\nOnly sampled requests are in the log (serve.log.sample). Import the labelled file with\n' +
        '`sapphire data import <file> --name <dataset>` and retrain.',
    )
    .action(async (name: string, opts: ExportFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const tenant = cliTenant(opts.tenant);
      const limit = Number(opts.limit);
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new SapphireError('BAD_INPUT', `--limit ${opts.limit} is not a positive whole number`, {
          hint: 'e.g. --limit 5000',
        });
      await withProject(flags, [], async (ctx) => {
        const version = await ctx.store.registry.resolveVersion(tenant, name);
        const result = await exportRequests({
          store: ctx.store,
          version,
          settings: ctx.card.monitoring,
          cacheRoot: defaultCacheRoot(ctx.dir),
          drifted: opts.drifted === true,
          limit,
          ...(opts.window ? { window: opts.window } : {}),
        });
        const jsonl = result.records.map((r) => `${JSON.stringify(r)}\n`).join('');
        if (opts.out) await writeFile(resolve(opts.out), jsonl);
        else if (!flags.json) process.stdout.write(jsonl);
        const summary = {
          model: version.name,
          version: version.version,
          window: result.window,
          read: result.read,
          exported: result.records.length,
          drifted: result.drifted,
          drift: result.driftStatus,
          out: opts.out ? resolve(opts.out) : null,
        };
        if (flags.json) return printJson(opts.out ? summary : { ...summary, records: result.records });
        const target = opts.out ? say : note;
        target(
          `Exported ${result.records.length} of ${result.read} logged predictions of ${version.name}@${version.version} (last ${result.window}${
            opts.drifted ? `, drifted slice: ${result.drifted.join(', ') || 'none'}` : ''
          })${opts.out ? ` to ${opts.out}` : ''}.`,
        );
        for (const line of result.notes) note(line);
      });
    });
}
