import { relative } from 'node:path';
import type { Command } from 'commander';
import { renderTable } from '../../core/table.ts';
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
    .option('--no-train', 'stop after the data: do not train the model ladder')
    .action(async (dir: string, opts: { data?: string; train: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const result = await runQuickstart({
        dir,
        data: opts.data,
        train: opts.train,
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
          ladder: result.ladder,
          ui: result.uiUrl,
        });
      }
      for (const d of result.datasets) {
        say();
        say(renderStats(d.split.id, d.stats));
      }
      if (result.ladder.length > 0) {
        const metric = result.card.metrics.primary;
        const score = (x: number | null) => (x === null ? '-' : x.toFixed(3));
        say();
        say(
          renderTable(
            result.ladder.map((r, i) => [
              i + 1,
              r.name,
              r.architecture,
              score(r.dev),
              score(r.test),
              r.seconds.toFixed(1),
            ]),
            {
              title: `Model ladder on ${result.ladder.length ? result.datasets[0]?.split.id : ''} (${metric}, same splits and seed)`,
              header: ['rung', 'model', 'architecture', `dev ${metric}`, `test ${metric}`, 'train s'],
            },
          ),
        );
      }
      say();
      say(`Your project is in ${result.dir}. Next steps:`);
      say(`  cd ${dir}`);
      say('  npx sapphire data ls                  # dataset versions and their lineage');
      say(`  npx sapphire data stats ${result.datasets[0]?.split.name ?? '<dataset>'} --slices`);
      const best = result.ladder.at(-1);
      if (best) {
        const model = relative(result.dir, best.modelDir);
        const dataset = result.datasets[0]?.split.name;
        say(`  npx sapphire evaluate ${model} ${dataset}:test          # per-label scores, calibration`);
        say(`  npx sapphire predict ${model} --text "${result.sampleText ?? 'some text'}"`);
        say(`  npx sapphire train ${best.config} seed=7          # change one thing, retrain, compare`);
        say(
          `  npx sapphire analyze ${model} --data ${dataset}:dev   # why it is wrong: error types, slices, howlers`,
        );
        say(
          `  npx sapphire cv ${best.config} --folds 5          # mean ± std over folds; also sweep, curve, ladder`,
        );
        say(
          `  npx sapphire models register ${model} --name ${dataset}   # then: promote ${dataset}@1, serve`,
        );
      }
      say('  npx sapphire runs ls                  # every run, with its config, metrics and artifacts');
      say('  npx sapphire next                     # what to do next, and why');
      say();
      say(`Look at it all in the web UI: npx sapphire ui   → ${result.uiUrl}`);
    });
}
