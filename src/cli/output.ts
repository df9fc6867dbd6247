import { formatProblem, SapphireError } from '../core/errors.ts';

/** Global flags every command understands. */
export interface GlobalFlags {
  json?: boolean;
  verbose?: boolean;
  project?: string;
  store?: string;
}

/** Writes a line for people to stdout. */
export function say(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Writes progress or notes to stderr, so stdout stays clean for data and `--json`. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Prints a value as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Renders any thrown value as the CLI's error output and returns the exit code. */
export function reportError(error: unknown, flags: GlobalFlags): number {
  if (error instanceof SapphireError) {
    if (flags.json) {
      process.stderr.write(`${JSON.stringify(error.toJSON())}\n`);
      return 1;
    }
    process.stderr.write(`error[${error.code}]: ${error.message}\n`);
    const problems = error.details.problems;
    if (flags.verbose && problems && problems.length > 5) {
      for (const p of problems.slice(5)) process.stderr.write(`  ${formatProblem(p)}\n`);
    }
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    if (flags.verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error[INTERNAL]: ${message}\n`);
  process.stderr.write(
    flags.verbose && error instanceof Error && error.stack
      ? `${error.stack}\n`
      : 'hint: this is a bug in sapphire; rerun with --verbose for the stack trace\n',
  );
  return 70;
}

/** Splits trailing command arguments into plain values and `key.path=value` config overrides. */
export function splitOverrides(args: string[]): { values: string[]; overrides: string[] } {
  const values: string[] = [];
  const overrides: string[] = [];
  for (const arg of args) {
    if (/^[A-Za-z_][\w-]*(\.[\w-]+)*=/.test(arg)) overrides.push(arg);
    else values.push(arg);
  }
  return { values, overrides };
}
