import { lstat, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Run, Store } from '../store/store.ts';
import { TRAINING_RECORD } from '../train/train.ts';
import { resolveRunId } from './run-query.ts';

/** A model folder on disk that belongs to a run about to be (or just) deleted. */
export interface RunModelDir {
  runId: string;
  /** Absolute path of the folder. */
  path: string;
  /** Bytes of the files inside it. */
  bytes: number;
}

/** What deleting some runs will remove: the runs (with their studies' members) and their model folders. */
export interface RunDeletionPlan {
  /** The runs named, resolved to full ids, in the order given. */
  requested: Run[];
  /** Every run that goes: the named runs and the members of named studies. */
  runs: Run[];
  modelDirs: RunModelDir[];
}

/** What {@link deleteRuns} removed. */
export interface RunDeletionResult {
  /** Ids of the deleted runs (the named runs and their studies' members). */
  runs: string[];
  /** Artifact blobs no other run or dataset version used, now deleted from the artifact folder. */
  freedArtifacts: number;
  freedBytes: number;
  /** Model folders removed from the project. */
  modelDirs: RunModelDir[];
  /** Bytes of the removed model folders. */
  freedModelBytes: number;
}

/** Whether `child` lies strictly inside `parent` (both absolute, resolved). */
function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await lstat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/**
 * The model folder of a run, when there is one that is safe to remove: the run config's `output` or
 * `models/<run id>`, a real folder (not a link) inside the project whose training.json names this run.
 */
async function modelDirOf(run: Run, projectDir: string): Promise<RunModelDir | null> {
  const project = await realpath(resolve(projectDir));
  const candidates = new Set<string>();
  const output = run.config.output;
  if (typeof output === 'string' && output !== '') candidates.add(resolve(project, output));
  candidates.add(resolve(project, 'models', run.id));
  for (const path of candidates) {
    if (!isInside(project, path)) continue;
    try {
      if (!(await lstat(path)).isDirectory()) continue;
      const real = await realpath(path);
      if (real !== path || !isInside(project, real)) continue;
      const record = JSON.parse(await readFile(join(path, TRAINING_RECORD), 'utf8')) as { run?: unknown };
      if (record.run !== run.id) continue;
      return { runId: run.id, path, bytes: await folderBytes(path) };
    } catch {
      // missing folder, no or unreadable training.json: not this run's model folder
    }
  }
  return null;
}

/** The runs below a study (members, members of nested studies), depth first. */
async function membersOf(store: Store, runId: string): Promise<Run[]> {
  const out: Run[] = [];
  for (const child of await store.listRuns({ parentId: runId })) {
    out.push(child, ...(await membersOf(store, child.id)));
  }
  return out;
}

/**
 * Works out what deleting runs would remove (the runs, their studies' members and their model folders)
 * without changing anything; every reference must resolve (ids or unique id parts) or nothing is planned.
 *
 * @example
 * const plan = await planRunDeletion(store, projectDir, ['a1b2c3']);
 */
export async function planRunDeletion(
  store: Store,
  projectDir: string,
  refs: string[],
): Promise<RunDeletionPlan> {
  const requested: Run[] = [];
  for (const ref of refs) {
    const run = await store.getRun(await resolveRunId(store, ref));
    if (!requested.some((r) => r.id === run.id)) requested.push(run);
  }
  const runs: Run[] = [];
  const seen = new Set<string>();
  for (const run of requested) {
    for (const r of [run, ...(await membersOf(store, run.id))]) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      runs.push(r);
    }
  }
  const modelDirs: RunModelDir[] = [];
  for (const run of runs) {
    const dir = await modelDirOf(run, projectDir);
    if (dir && !modelDirs.some((d) => d.path === dir.path)) modelDirs.push(dir);
  }
  return { requested, runs, modelDirs };
}

/**
 * Deletes runs from the store (a study with its members, metrics, artifact records and unshared blobs) and
 * removes their model folders from the project — only a folder at the run's `output` or `models/<run id>`,
 * inside the project, whose training.json names the deleted run. All references are resolved before anything
 * is deleted.
 *
 * @example
 * const freed = await deleteRuns(store, projectDir, ['r-20240501120000-a1b2c3']);
 * freed.modelDirs; // [{ runId, path: '/project/models/r-20240501120000-a1b2c3', bytes: 5120 }]
 */
export async function deleteRuns(
  store: Store,
  projectDir: string,
  refs: string[],
): Promise<RunDeletionResult> {
  const plan = await planRunDeletion(store, projectDir, refs);
  const deleted = new Set<string>();
  let freedArtifacts = 0;
  let freedBytes = 0;
  for (const run of plan.requested) {
    if (deleted.has(run.id)) continue; // a member of a study deleted before it
    const result = await store.deleteRun(run.id);
    for (const id of result.runs) deleted.add(id);
    freedArtifacts += result.freedArtifacts;
    freedBytes += result.freedBytes;
  }
  const modelDirs: RunModelDir[] = [];
  for (const dir of plan.modelDirs) {
    if (!deleted.has(dir.runId)) continue;
    await rm(dir.path, { recursive: true, force: true });
    modelDirs.push(dir);
  }
  return {
    runs: plan.runs.map((r) => r.id).filter((id) => deleted.has(id)),
    freedArtifacts,
    freedBytes,
    modelDirs,
    freedModelBytes: modelDirs.reduce((n, d) => n + d.bytes, 0),
  };
}
