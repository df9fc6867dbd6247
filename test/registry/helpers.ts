/** Tiny classification fixtures for the registry, promotion and retraining tests: a store, gold data, mock models. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import { MockModel } from '../../src/models/mock/mock-model.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

/** Gold label of test text `item <i>`: A for even i, B for odd. */
export const goldLabel = (i: number): string => (i % 2 === 0 ? 'A' : 'B');

/** 60 test examples `item 0`…`item 59` and 10 train examples, labels A/B. */
export function goldExamples(): Example[] {
  const test = Array.from({ length: 60 }, (_, i) => ({
    id: `t${i}`,
    text: `item ${i}`,
    labels: [goldLabel(i)],
    split: 'test',
    meta: {},
  }));
  const train = Array.from({ length: 10 }, (_, i) => ({
    id: `r${i}`,
    text: `train ${i}`,
    labels: [goldLabel(i)],
    split: 'train',
    meta: {},
  }));
  return [...train, ...test];
}

/** A project card whose gates use the `gold:test` split. */
export function classifyCard(extra: Record<string, unknown> = {}) {
  return problemCardSchema.parse({
    name: 'shop',
    task: 'classify',
    labels: ['A', 'B'],
    data: { sources: [{ name: 'gold', path: 'gold.jsonl' }] },
    ...extra,
  });
}

/** A temp project folder with an open store holding the `gold` dataset; `close()` removes both. */
export async function tempProject(): Promise<{ dir: string; store: Store; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sapphire-registry-'));
  const store = await openStore({ projectDir: dir });
  await store.putDatasetVersion({
    name: 'gold',
    examples: goldExamples(),
    operation: { kind: 'import', params: {} },
  });
  return {
    dir,
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Saves a mock classifier to `<dir>/<name>`: `correct` of the 60 test texts answered right (the first ones),
 * every other text answered A.
 */
export async function mockModelDir(dir: string, name: string, correct: number): Promise<string> {
  const answers = Array.from({ length: correct }, (_, i) => ({ text: `item ${i}`, labels: [goldLabel(i)] }));
  const model = new MockModel({ task: 'classify', answers, default: { labels: ['A'] } });
  const target = join(dir, name);
  mkdirSync(target, { recursive: true });
  await model.save(target);
  return target;
}

/** Writes earmarks.jsonl into the project. */
export function writeEarmarks(dir: string, lines: unknown[]): void {
  writeFileSync(join(dir, 'earmarks.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
}
