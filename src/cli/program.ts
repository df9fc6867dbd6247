import { readFileSync } from 'node:fs';
import { Command } from 'commander';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** A command group: the top-level command names it registers and how to load it. */
interface CommandGroup {
  names: string[];
  load: () => Promise<(program: Command) => void>;
}

/**
 * Every command group, in help order. Groups load lazily so that a command only pays for the modules it uses
 * (HTML parsing, SQL drivers, models…): `sapphire runs ls` does not load the models.
 */
const COMMAND_GROUPS: CommandGroup[] = [
  {
    names: ['quickstart'],
    load: async () => (await import('./commands/quickstart.ts')).registerQuickstartCommand,
  },
  { names: ['init'], load: async () => (await import('./commands/init.ts')).registerInitCommand },
  { names: ['data'], load: async () => (await import('./commands/data.ts')).registerDataCommands },
  {
    names: ['train', 'evaluate', 'predict'],
    load: async () => (await import('./commands/models.ts')).registerModelCommands,
  },
  { names: ['store'], load: async () => (await import('./commands/store.ts')).registerStoreCommands },
  { names: ['runs'], load: async () => (await import('./commands/runs.ts')).registerRunCommands },
  {
    names: ['sweep', 'cv', 'curve', 'ladder'],
    load: async () => (await import('./commands/studies.ts')).registerStudyCommands,
  },
  {
    names: ['worker', 'study'],
    load: async () => (await import('./commands/queue.ts')).registerQueueCommands,
  },
  { names: ['report'], load: async () => (await import('./commands/report.ts')).registerReportCommand },
  { names: ['analyze'], load: async () => (await import('./commands/analyze.ts')).registerAnalyzeCommand },
  {
    names: ['status', 'next'],
    load: async () => (await import('./commands/coach.ts')).registerCoachCommands,
  },
  { names: ['test'], load: async () => (await import('./commands/test.ts')).registerTestCommand },
  {
    names: ['models', 'promote', 'retrain'],
    load: async () => (await import('./commands/registry.ts')).registerRegistryCommands,
  },
  { names: ['serve'], load: async () => (await import('./commands/serve.ts')).registerServeCommand },
  { names: ['ui'], load: async () => (await import('./commands/serve.ts')).registerUiCommand },
  {
    names: ['overrides'],
    load: async () => (await import('./commands/overrides.ts')).registerOverrideCommands,
  },
  { names: ['tenants'], load: async () => (await import('./commands/tenants.ts')).registerTenantCommands },
  {
    names: ['feedback', 'monitor'],
    load: async () => (await import('./commands/feedback.ts')).registerFeedbackCommands,
  },
  { names: ['requests'], load: async () => (await import('./commands/requests.ts')).registerRequestCommands },
];

/** Global options that take a value, so the command name is found after them. */
const VALUE_OPTIONS = new Set(['--project', '--store']);

/** The command named on a command line (`sapphire --project x runs ls` → `runs`), or null. */
export function commandName(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return arg;
  }
  return null;
}

function baseProgram(): Command {
  return new Command('sapphire')
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
}

/**
 * Builds the `sapphire` command tree: every command, or with `argv` only the group of the command it names
 * (all of them when it names none or an unknown one, so help and "did you mean" still work).
 *
 * @example
 * const program = await buildProgram(process.argv);
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = baseProgram();
  const name = argv ? commandName(argv.slice(2)) : null;
  const args = argv?.slice(2) ?? [];
  const versionOnly = name === null && (args.includes('-V') || args.includes('--version'));
  const only = COMMAND_GROUPS.find((g) => name !== null && g.names.includes(name));
  const groups = versionOnly ? [] : only ? [only] : COMMAND_GROUPS;
  for (const group of groups) (await group.load())(program);
  return program;
}
