import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, hostname, platform } from 'node:os';
import { dirname, join } from 'node:path';

/** Where and with what a run was made, recorded with every run. */
export interface RunProvenance {
  /** The project's git commit (null outside a git repository) and whether the work tree had changes. */
  git: { commit: string | null; branch: string | null; dirty: boolean | null };
  /** Versions of sapphire, node and the libraries that shape results. */
  packages: Record<string, string>;
  host: string;
  pid: number;
  platform: string;
  cpus: number;
  /** The command line that started the run, when it came from the CLI. */
  command: string | null;
}

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);
/** Libraries whose version can change results or their storage. */
const TRACKED_PACKAGES = ['kysely', 'better-sqlite3', 'pg', 'zod', 'yaml'];

let cachedPackages: Record<string, string> | null = null;

/** Versions of sapphire, node and the tracked libraries (read once per process). */
export function packageVersions(): Record<string, string> {
  if (cachedPackages) return cachedPackages;
  const own = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { name: string; version: string };
  const versions: Record<string, string> = { [own.name]: own.version, node: process.versions.node };
  const require = createRequire(PACKAGE_JSON);
  for (const name of TRACKED_PACKAGES) {
    const version = installedVersion(require, name);
    if (version) versions[name] = version;
  }
  cachedPackages = versions;
  return versions;
}

/** The version of an installed package, also for packages whose `exports` hide their package.json. */
function installedVersion(require: NodeJS.Require, name: string): string | null {
  try {
    let dir = dirname(require.resolve(name));
    for (let depth = 0; depth < 6; depth++, dir = dirname(dir)) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === name && json.version) return json.version;
    }
  } catch {
    // not installed: nothing to record
  }
  return null;
}

function git(dir: string, args: string[]): string | null {
  try {
    return execFileSync('git', ['-C', dir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
  } catch {
    return null;
  }
}

/** The git commit, branch and dirty flag of the repository holding `dir` (nulls when it is not in one). */
export function gitVersion(dir: string): RunProvenance['git'] {
  const commit = git(dir, ['rev-parse', 'HEAD']);
  if (commit === null) return { commit: null, branch: null, dirty: null };
  const branch = git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
  const status = git(dir, ['status', '--porcelain', '--untracked-files=no']);
  return { commit, branch: branch === 'HEAD' ? null : branch, dirty: status === null ? null : status !== '' };
}

const gitCache = new Map<string, RunProvenance['git']>();

/**
 * Collects the provenance of a run made now in this process for a project folder (git is asked once per folder
 * and process, so a sweep of many trials pays for it once).
 *
 * @example
 * const provenance = collectProvenance('/work/my-project'); // { git: { commit: 'a1b2…', dirty: false }, … }
 */
export function collectProvenance(projectDir: string, command: string | null = null): RunProvenance {
  let version = gitCache.get(projectDir);
  if (!version) {
    version = gitVersion(projectDir);
    gitCache.set(projectDir, version);
  }
  return {
    git: version,
    packages: packageVersions(),
    host: hostname(),
    pid: process.pid,
    platform: `${platform()}-${arch()}`,
    cpus: cpus().length,
    command,
  };
}
