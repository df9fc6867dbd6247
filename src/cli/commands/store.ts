import { resolve } from 'node:path';
import type { Command } from 'commander';
import { findProjectDir } from '../../core/project.ts';
import { migrateStore, SCHEMA_VERSION } from '../../store/open-store.ts';
import { type GlobalFlags, printJson, say } from '../output.ts';

/** Registers `sapphire store …`. */
export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('manage the tracking store (schema upgrades)');
  store
    .command('migrate')
    .description(`upgrade the store's schema to the version this sapphire uses (v${SCHEMA_VERSION})`)
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const projectDir = flags.project ? resolve(flags.project) : findProjectDir(process.cwd());
      const result = await migrateStore({ uri: flags.store ?? process.env.SAPPHIRE_STORE, projectDir });
      if (flags.json) return printJson(result);
      say(
        result.from === result.to
          ? `Store already at schema v${result.to}.`
          : `Store upgraded from schema v${result.from} to v${result.to}.`,
      );
    });
}
