/**
 * Sapphire as a library: the same building blocks the CLI and the HTTP service use. Run from source with a
 * TypeScript loader (`node --import tsx`, see docs/adr/0001), like the CLI. What is here, in the order of the loop:
 * projects (the problem card), data (formats, tokens, HTML to text), models (every built-in family registered;
 * `predictMany` also serves models that only predict asynchronously), metrics and paired significance tests,
 * the tracking store and recorded training runs, error analysis, and serving (the Fastify service and the
 * override rules it applies). Errors are `SapphireError`s: a code, a message, and where/what to do in `details`.
 * `buildServer` moves the SQLite store's checkpoints to a worker thread that `store.close()` stops.
 *
 * @example
 * import { createModel, evaluatePredictions, predictMany, readDataset } from 'sapphire';
 * const { examples } = await readDataset('train.conll', { task: 'ner' });
 * const model = createModel('crf.v1', {});
 * await model.fit(examples);
 * const report = evaluatePredictions('ner', examples, await predictMany(model, examples));
 */

export { analyzeModel } from './analysis/analyze.ts';
export {
  ConfigError,
  DataError,
  NotFittedError,
  NotFoundError,
  SapphireError,
} from './core/errors.ts';
export { initProject, loadProject, type ProblemCard, type Project } from './core/project.ts';
export { detectFormat, type ReadOptions, readDataset, writeDataset } from './data/formats/index.ts';
export type { Example, Span, TaskKind, Token } from './data/types.ts';
export { type EvaluationReport, evaluatePredictions } from './metrics/evaluate.ts';
export { approximateRandomization, compareSystems, pairedBootstrap } from './metrics/significance.ts';
export {
  createModel,
  listModels,
  loadModel,
  type Model,
  type ModelInput,
  type Prediction,
  predictMany,
  registerModel,
} from './models/index.ts';
export { applyOverrides, compileOverrides } from './serve/overrides-engine.ts';
export { buildServer } from './serve/server.ts';
export { openStore } from './store/open-store.ts';
export type { Store } from './store/store.ts';
export { htmlToText } from './text/html-to-text.ts';
export { tokenize } from './text/tokenizer.ts';
export { trainModel } from './train/train.ts';
