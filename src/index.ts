/**
 * Sapphire as a library: the same building blocks the CLI and the HTTP service use. Run from source with a
 * TypeScript loader (`node --import tsx`, see docs/adr/0001), like the CLI.
 *
 * @example
 * import { createModel, evaluatePredictions, readDataset } from 'sapphire';
 * const { examples } = await readDataset('train.conll', { task: 'ner' });
 * const model = createModel('crf.v1', {});
 * await model.fit(examples);
 * const report = evaluatePredictions('ner', examples, model.predict(examples));
 */

// Error analysis of a trained model.
export { analyzeModel } from './analysis/analyze.ts';
// Errors every entry point throws: a code, a message, and where/what to do in `details`.
export {
  ConfigError,
  DataError,
  NotFittedError,
  NotFoundError,
  SapphireError,
} from './core/errors.ts';
// Projects: the problem card (sapphire.yaml).
export { initProject, loadProject, type ProblemCard, type Project } from './core/project.ts';
// Data: examples, the formats they are read from and written to, tokens, HTML to text.
export { detectFormat, type ReadOptions, readDataset, writeDataset } from './data/formats/index.ts';
export type { Example, Span, TaskKind, Token } from './data/types.ts';
// Metrics and honest comparisons.
export { type EvaluationReport, evaluatePredictions } from './metrics/evaluate.ts';
export { approximateRandomization, compareSystems, pairedBootstrap } from './metrics/significance.ts';
// Models: every built-in family registered; predict, explain, save, load.
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
// Serving: the Fastify service and the override rules it applies.
export { buildServer } from './serve/server.ts';
// The tracking store (runs, datasets, registry, tenants, feedback) and training runs recorded in it.
export { openStore } from './store/open-store.ts';
export type { Store } from './store/store.ts';
export { htmlToText } from './text/html-to-text.ts';
export { tokenize } from './text/tokenizer.ts';
export { trainModel } from './train/train.ts';
