import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { initProject } from '../../core/project.ts';
import { type GlobalFlags, printJson, say } from '../output.ts';

/** Registers `sapphire init`. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description("create sapphire.yaml, the project's problem card (task, labels, metrics, slices, data)")
    .argument('[dir]', 'project folder', '.')
    .addOption(
      new Option('--task <task>', 'the problem to solve')
        .choices(['ner', 'classify', 'multilabel'])
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'project name (default: the folder name)')
    .option('--labels <labels>', 'comma-separated label set, e.g. BRAND,COLOR')
    .option('--force', 'overwrite an existing sapphire.yaml')
    .action(
      async (
        dir: string,
        opts: { task: 'ner' | 'classify' | 'multilabel'; name?: string; labels?: string; force?: boolean },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        const target = resolve(dir);
        const labels = opts.labels
          ? opts.labels
              .split(',')
              .map((l) => l.trim())
              .filter(Boolean)
          : undefined;
        const { file, card } = await initProject(target, {
          task: opts.task,
          name: opts.name,
          labels,
          force: opts.force,
        });
        if (flags.json) return printJson({ file, card });
        say(`Created ${file} for a ${card.task} project "${card.name}".`);
        say(
          'Next: edit the labels, metrics and slices in it, then `sapphire data import <file> --name <dataset>`.',
        );
      },
    );
}
