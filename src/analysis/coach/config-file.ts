import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_FILE } from '../../core/project.ts';
import type { Run } from '../../store/store.ts';
import { runArchitecture } from './run-facts.ts';

/** Commands whose first YAML argument is a training config. */
const CONFIG_COMMANDS = new Set(['train', 'sweep', 'cv', 'curve']);

/** The training config named on a recorded command line (`sapphire curve lin.yaml --seeds 1` → `lin.yaml`). */
export function configFromCommand(command: string | null | undefined): string | null {
  if (!command) return null;
  const words = command.split(/\s+/).filter(Boolean);
  const verb = words.findIndex((w) => CONFIG_COMMANDS.has(w));
  if (verb < 0) return null;
  return words.slice(verb + 1).find((w) => /\.ya?ml$/i.test(w)) ?? null;
}

function yamlFilesIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/i.test(f) && f !== PROJECT_FILE)
    .sort()
    .map((f) => join(dir, f));
}

function readConfigSections(file: string): { model: unknown; dataset: unknown } | null {
  try {
    const value = parse(readFileSync(file, 'utf8')) as {
      model?: unknown;
      data?: { dataset?: unknown };
    } | null;
    if (!value || typeof value !== 'object') return null;
    return { model: value.model, dataset: value.data?.dataset };
  } catch {
    return null;
  }
}

/** Number of leaf values in a settings tree. */
function leafCount(value: unknown): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 1;
  return Object.values(value).reduce<number>((n, v) => n + leafCount(v), 0);
}

/** True when every value `partial` gives is also in `full` (the file's settings are part of the filled config). */
function isPartOf(partial: unknown, full: unknown): boolean {
  if (typeof partial !== 'object' || partial === null) return partial === full;
  if (typeof full !== 'object' || full === null) return false;
  if (Array.isArray(partial))
    return (
      Array.isArray(full) && partial.length === full.length && partial.every((v, i) => isPartOf(v, full[i]))
    );
  return Object.entries(partial).every(([k, v]) => isPartOf(v, (full as Record<string, unknown>)[k]));
}

/**
 * The training config file (relative to the project) that made a run, so recommendations can name a runnable
 * command: the YAML named on the recorded command line when it exists in the project, else the one YAML file in
 * the project folder or `configs/` whose model settings and dataset match the run's; null when none is found.
 *
 * @example
 * findRunConfigFile(run, '/work/bank'); // 'configs/linear.yaml'
 */
export function findRunConfigFile(run: Run, projectDir: string): string | null {
  const named = configFromCommand(typeof run.provenance.command === 'string' ? run.provenance.command : null);
  if (named && existsSync(resolve(projectDir, named))) return named;
  if (!runArchitecture(run)) return named;
  const data = run.config.data as { dataset?: unknown } | undefined;
  const dataset = typeof data?.dataset === 'string' ? data.dataset : null;
  const candidates = [...yamlFilesIn(projectDir), ...yamlFilesIn(join(projectDir, 'configs'))]
    .map((file) => ({ file, sections: readConfigSections(file) }))
    .filter(
      ({ sections }) =>
        sections !== null &&
        typeof sections.model === 'object' &&
        sections.model !== null &&
        isPartOf(sections.model, run.config.model) &&
        (dataset === null || sections.dataset === dataset),
    )
    .map(({ file, sections }) => ({ file, leaves: leafCount(sections?.model) }));
  // The most specific file wins: `model: { architecture: linear.v1 }` is part of every linear.v1 run.
  const found = candidates.sort((a, b) => b.leaves - a.leaves)[0]?.file;
  return found ? relative(projectDir, found) : named;
}
