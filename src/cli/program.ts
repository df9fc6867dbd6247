import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerDataCommands } from './commands/data.ts';
import { registerInitCommand } from './commands/init.ts';
import { registerModelCommands } from './commands/models.ts';
import { registerQuickstartCommand } from './commands/quickstart.ts';
import { registerStoreCommands } from './commands/store.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Builds the `sapphire` command tree (exported for tests and the `--help` golden file). */
export function buildProgram(): Command {
  const program = new Command('sapphire')
    .description('Sapphire: an agile deep-learning workbench for text (NER and classification).')
    .version(pkg.version, '-V, --version')
    .option('--project <dir>', 'project folder (default: the nearest folder with sapphire.yaml)')
    .option(
      '--store <uri>',
      'tracking store: a SQLite path or postgres://… (default: .sapphire/ in the project)',
    )
    .option('--json', 'machine-readable JSON output')
    .option('-v, --verbose', 'show stack traces and every problem found')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nConfig values in sapphire.yaml can be overridden on any command as key.path=value,\n' +
        'e.g. `sapphire data split fashion-titles data.split.seed=7`.',
    );
  registerQuickstartCommand(program);
  registerInitCommand(program);
  registerDataCommands(program);
  registerModelCommands(program);
  registerStoreCommands(program);
  return program;
}
