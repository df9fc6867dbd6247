/**
 * Promotion: pointing an alias (usually `production`) at a registered version once the card's gates pass; a
 * refused attempt is logged with every gate's numbers, and `force` promotes anyway, recorded as forced.
 */
import { SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import {
  type GateOutcome,
  type ModelVersion,
  PRODUCTION_ALIAS,
  type PromotionRecord,
} from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import { runGates } from './gates.ts';
import { defaultCacheRoot, loadRegisteredModel } from './materialize.ts';
import { checkAlias } from './register.ts';

/** Options of {@link promoteVersion}. */
export interface PromoteOptions {
  store: Store;
  card: ProblemCard;
  projectDir: string;
  tenant: string;
  /** `name@<version>` (or `name@<alias>`): the candidate. */
  ref: string;
  /** The alias to move (default `production`). */
  alias?: string;
  /** Promote even when a gate fails (recorded as forced, with the reason). */
  force?: boolean;
  reason?: string | null;
  actor: string;
  /** Where versions are materialized (default `<projectDir>/.sapphire/cache/registry`). */
  cacheRoot?: string;
  onProgress?: (message: string) => void;
}

/** What {@link promoteVersion} did: promoted or not, the logged record, and every gate's outcome. */
export interface PromotionResult {
  promoted: boolean;
  record: PromotionRecord;
  gates: GateOutcome[];
}

/** The version an alias of a model points at now, or null. */
export async function aliasTarget(
  store: Store,
  tenant: string,
  name: string,
  alias: string,
): Promise<ModelVersion | null> {
  return (await store.registry.listVersions(tenant, name)).find((v) => v.aliases.includes(alias)) ?? null;
}

/**
 * Runs the card's promotion gates for a version against the alias's current version and moves the alias when
 * they all pass (or when forced); a refusal is recorded with the gates and returns `promoted: false`.
 *
 * @example
 * const { promoted, gates } = await promoteVersion({ store, card, projectDir: '.', tenant: 'default', ref: 'shop@4', actor: 'user:ann' });
 * if (!promoted) for (const g of gates.filter((g) => !g.passed)) console.log(`✗ ${g.gate}: ${g.summary}`);
 */
export async function promoteVersion(options: PromoteOptions): Promise<PromotionResult> {
  const { store, card, tenant, actor } = options;
  const alias = options.alias ?? PRODUCTION_ALIAS;
  checkAlias(alias);
  const progress = options.onProgress ?? (() => undefined);
  const ref = typeof options.ref === 'string' ? options.ref.trim() : '';
  if (ref.lastIndexOf('@') <= 0)
    throw new SapphireError('BAD_INPUT', `say which version to promote: "${ref}" has no @<version>`, {
      hint: `e.g. sapphire promote ${ref || 'my-model'}@3 (see \`sapphire models show ${ref || '<name>'}\`)`,
    });
  const candidate = await store.registry.resolveVersion(tenant, ref);
  if (candidate.task !== card.task)
    throw new SapphireError(
      'CONFLICT',
      `${candidate.name}@${candidate.version} is a ${candidate.task} model; this project's task is ${card.task}`,
      { hint: 'promote it from the project it was trained for (its sapphire.yaml holds the gates)' },
    );
  const current = await aliasTarget(store, tenant, candidate.name, alias);
  if (current?.version === candidate.version)
    throw new SapphireError('CONFLICT', `${candidate.name}@${candidate.version} is already ${alias}`, {
      hint: `see \`sapphire models show ${candidate.name}\` for its versions and aliases`,
    });
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot(options.projectDir);
  progress(`loading ${candidate.name}@${candidate.version} (${candidate.architecture})`);
  const candidateModel = await loadRegisteredModel(store, candidate, cacheRoot);
  const gates = await runGates({
    store,
    card,
    projectDir: options.projectDir,
    candidate,
    candidateModel,
    current,
    alias,
    cacheRoot,
    onProgress: progress,
  });
  const passed = gates.every((g) => g.passed);
  const reason = options.reason ?? null;
  if (!passed && !options.force) {
    const record = await store.registry.recordPromotion({
      tenant,
      name: candidate.name,
      version: candidate.version,
      alias,
      outcome: 'refused',
      forced: false,
      reason,
      gates,
      actor,
    });
    return { promoted: false, record, gates };
  }
  // The gates compared against `current`; refuse to move an alias that moved meanwhile.
  const now = await aliasTarget(store, tenant, candidate.name, alias);
  if ((now?.version ?? null) !== (current?.version ?? null))
    throw new SapphireError(
      'CONFLICT',
      `${alias} of ${candidate.name} moved from ${current ? `v${current.version}` : 'nothing'} to ${now ? `v${now.version}` : 'nothing'} while the gates ran`,
      { hint: 'run the promotion again to gate against the new version' },
    );
  const record = await store.registry.setAlias(tenant, candidate.name, alias, candidate.version, {
    forced: !passed,
    reason,
    gates,
    actor,
  });
  if (!record)
    throw new SapphireError(
      'INTERNAL',
      `the store did not record the promotion of ${candidate.name}@${candidate.version}`,
    );
  return { promoted: true, record, gates };
}
