import type { DriftFacts } from '../analysis/coach/project-state.ts';
import type { ProblemCard } from '../core/project.ts';
import { PRODUCTION_ALIAS } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import { storedLiveReport } from './stored-live.ts';

/**
 * Drift of every production model of a tenant over the card's monitoring window, from the sketches the servers
 * published — what `sapphire next` recommends acting on. Models without predictions in the window are left out.
 *
 * @example
 * const drift = await driftFacts(store, card, 'default', defaultCacheRoot(dir));
 */
export async function driftFacts(
  store: Store,
  card: ProblemCard,
  tenant: string,
  cacheRoot: string,
): Promise<DriftFacts[]> {
  const facts: DriftFacts[] = [];
  for (const model of await store.registry.listModels(tenant)) {
    const production = model.aliases[PRODUCTION_ALIAS];
    if (production === undefined) continue;
    const version = await store.registry.resolveVersion(tenant, `${model.name}@${production}`);
    const { report } = await storedLiveReport({ store, version, settings: card.monitoring, cacheRoot });
    if (report.items === 0) continue;
    const drift = report.drift;
    const signals: Record<string, number> = {};
    for (const s of drift?.signals ?? []) if (s.drifted && s.value !== null) signals[s.name] = s.value;
    facts.push({
      tenant,
      model: model.name,
      version: version.version,
      window: report.window,
      status: drift ? drift.status : 'no-profile',
      items: report.items,
      signals,
      newItems: [
        ...(drift?.newTokens ?? []).map((t) => t.item),
        ...(drift?.newEntities ?? []).map((t) => t.item.replace('\t', ':')),
      ],
    });
  }
  return facts;
}
