import type { Command } from 'commander';
import { runQuickstart } from '../../workflows/quickstart.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';
import { renderStats } from '../render/stats.ts';

/** Registers `sapphire quickstart`. */
export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description(
      'create a demo project (fashion listings), import and split its data, and show what is in it',
    )
    .argument('[dir]', 'project folder to create or reuse', 'sapphire-quickstart')
    .option('--data <path>', 'use this data file or folder instead of the fashion demo')
    .action(async (dir: string, opts: { data?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const result = await runQuickstart({
        dir,
        data: opts.data,
        store: flags.store,
        onStep: flags.json ? undefined : (m) => note(`✓ ${m}`),
      });
      if (flags.json) {
        return printJson({
          dir: result.dir,
          datasets: result.datasets.map((d) => ({
            imported: d.imported.id,
            split: d.split.id,
            stats: d.stats,
          })),
        });
      }
      for (const d of result.datasets) {
        say();
        say(renderStats(d.split.id, d.stats));
      }
      say();
      say(`Your project is in ${result.dir}. Next steps:`);
      say(`  cd ${dir}`);
      say('  npx sapphire data ls                  # dataset versions and their lineage');
      say(`  npx sapphire data stats ${result.datasets[0]?.split.name ?? '<dataset>'} --slices`);
    });
}
