/** Shared setup of the serve tests: temp projects with a store, tiny trained models, registered versions. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProblemCard, problemCardSchema, writeProblemCard } from '../../src/core/project.ts';
import type { Example, Span, TaskKind } from '../../src/data/types.ts';
import { createModel, loadModel } from '../../src/models/index.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ModelVersion } from '../../src/store/serving-store.ts';
import type { Store } from '../../src/store/store.ts';
import { buildReferenceProfile, saveReferenceProfile } from '../../src/train/reference-profile.ts';

/** A temp project folder with `sapphire.yaml` and its open store. */
export interface TestProject {
  dir: string;
  card: ProblemCard;
  store: Store;
  /** Closes the store and deletes the folder. */
  cleanup(): Promise<void>;
}

const ex = (id: string, text: string, labels: string[]): Example => ({ id, text, labels, meta: {} });

/** Three banking intents. */
export const INTENTS: Example[] = [
  ex('c1', 'where is my new card', ['card_arrival']),
  ex('c2', 'my card has not arrived yet', ['card_arrival']),
  ex('c3', 'card still not delivered', ['card_arrival']),
  ex('t1', 'I want to top up my account', ['top_up']),
  ex('t2', 'how do I top up with a bank transfer', ['top_up']),
  ex('t3', 'top up failed again', ['top_up']),
  ex('r1', 'what is the exchange rate today', ['exchange_rate']),
  ex('r2', 'which exchange rate do you use', ['exchange_rate']),
  ex('r3', 'rate for euro to dollar exchange', ['exchange_rate']),
];

const ner = (id: string, text: string, entities: [string, string][]): Example => {
  const spans: Span[] = entities.map(([surface, label]) => {
    const start = text.indexOf(surface);
    return { start, end: start + surface.length, label };
  });
  return { id, text, spans, meta: {} };
};

/** Brands and places. */
export const ENTITIES: Example[] = [
  ner('1', 'I love Nike shoes', [['Nike', 'BRAND']]),
  ner('2', 'New York has great Adidas stores', [
    ['New York', 'LOC'],
    ['Adidas', 'BRAND'],
  ]),
  ner('3', 'Paris London trip', [
    ['Paris', 'LOC'],
    ['London', 'LOC'],
  ]),
  ner('4', 'nothing to see here', []),
];

/** Creates a project (classify with the three intents, or ner with BRAND/LOC) and opens its SQLite store. */
export async function createTestProject(
  task: TaskKind = 'classify',
  name = 'serve-test',
): Promise<TestProject> {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-serve-'));
  const labels = task === 'ner' ? ['BRAND', 'LOC'] : ['card_arrival', 'top_up', 'exchange_rate'];
  const card = problemCardSchema.parse({ name, task, labels });
  writeProblemCard(dir, card);
  const store = await openStore({ projectDir: dir });
  return {
    dir,
    card,
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let folders = 0;

/**
 * Trains a tiny model (linear.v1 for classification, token-majority.v1 for ner), saves it and registers it as the
 * next version of `name`; with `alias`, points that alias at it.
 */
export async function registerTiny(
  project: TestProject,
  options: { name: string; task?: TaskKind; examples?: Example[]; tenant?: string; alias?: string },
): Promise<ModelVersion> {
  const task = options.task ?? project.card.task;
  const model =
    task === 'ner'
      ? createModel('token-majority.v1')
      : createModel('linear.v1', { task, trainer: { epochs: 20 } });
  await model.fit(options.examples ?? (task === 'ner' ? ENTITIES : INTENTS), undefined, { seed: 1 });
  const folder = join(project.dir, 'trained', `${options.name}-${++folders}`);
  await mkdir(folder, { recursive: true });
  await model.save(folder);
  const tenant = options.tenant ?? 'default';
  if (tenant !== 'default') {
    const known = await project.store.tenants.listTenants();
    if (!known.some((t) => t.id === tenant)) await project.store.tenants.createTenant({ id: tenant });
  }
  const version = await registerModelVersion(project.store, {
    tenant,
    source: folder,
    name: options.name,
    actor: 'test',
    cwd: project.dir,
  });
  if (options.alias)
    await project.store.registry.setAlias(tenant, options.name, options.alias, version.version);
  return version;
}

/**
 * Registers a tiny classifier saved with a reference profile (made from the intents themselves, as `sapphire train`
 * would from its dev set) as the next version of `name`; with `alias`, points that alias at it.
 */
export async function registerWithProfile(
  project: TestProject,
  options: { name: string; alias?: string },
): Promise<ModelVersion> {
  const source = await registerTiny(project, { name: `${options.name}-source` });
  const folder = source.source.replace(/^dir:/, '');
  const model = await loadModel(folder);
  const predictions = model.predict(INTENTS.map((e) => ({ text: e.text })));
  await saveReferenceProfile(
    folder,
    buildReferenceProfile({
      task: 'classify',
      architecture: model.name,
      train: INTENTS,
      reference: { name: 'dev', examples: INTENTS, predictions },
    }),
  );
  const version = await registerModelVersion(project.store, {
    tenant: 'default',
    source: folder,
    name: options.name,
    actor: 'test',
    cwd: project.dir,
  });
  if (options.alias)
    await project.store.registry.setAlias('default', options.name, options.alias, version.version);
  return version;
}

/** Compares a value with a JSON golden file in test/serve/golden (UPDATE_GOLDEN=1, or a missing file, writes it). */
export function matchGolden(name: string, value: unknown): { expected: unknown; actual: unknown } {
  const file = join(import.meta.dirname, 'golden', name);
  const actual = JSON.parse(JSON.stringify(value)) as unknown;
  if (process.env.UPDATE_GOLDEN || !existsSync(file))
    writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  return { expected: JSON.parse(readFileSync(file, 'utf8')) as unknown, actual };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
