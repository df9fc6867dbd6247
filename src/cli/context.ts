import { resolve } from 'node:path';
import { findProjectDir, loadProject, type ProblemCard } from '../core/project.ts';
import { failAbandonedRuns } from '../store/abandoned-runs.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { type GlobalFlags, note } from './output.ts';

/** A loaded project with its open store, for commands that work inside a project. */
export interface ProjectContext {
  dir: string;
  file: string;
  card: ProblemCard;
  store: Store;
}

/** Finds and loads the project (from `--project` or upwards from the working directory) and opens its store. */
export async function openProject(flags: GlobalFlags, overrides: string[] = []): Promise<ProjectContext> {
  const dir = flags.project ? resolve(flags.project) : findProjectDir(process.cwd());
  const { file, card } = await loadProject(dir, overrides);
  const store = await openStore({
    uri: flags.store ?? process.env.SAPPHIRE_STORE ?? card.store ?? undefined,
    projectDir: dir,
  });
  try {
    const abandoned = await failAbandonedRuns(store);
    if (abandoned.length > 0 && !flags.json)
      note(
        `Marked ${abandoned.length} run(s) failed whose process had died: ${abandoned.map((r) => r.id).join(', ')}`,
      );
  } catch (err) {
    await store.close();
    throw err;
  }
  return { dir, file, card, store };
}

/** Runs work with a project context and always closes its store. */
export async function withProject<T>(
  flags: GlobalFlags,
  overrides: string[],
  work: (ctx: ProjectContext) => Promise<T>,
): Promise<T> {
  const ctx = await openProject(flags, overrides);
  try {
    return await work(ctx);
  } finally {
    await ctx.store.close();
  }
}
