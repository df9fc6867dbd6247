/**
 * The linear family: importing this module registers `linear.v1` (hashed word + character n-gram TF-IDF with a
 * logistic-regression or linear-SVM head).
 */
import { registerModel } from '../registry.ts';
import { LINEAR_V1, LinearModel } from './linear-model.ts';

registerModel(LINEAR_V1, {
  description:
    'Linear classifier over hashed word and character n-gram TF-IDF: logistic regression or linear SVM; multi-label by one-vs-rest',
  create: (config) => new LinearModel(config),
  load: (dir) => LinearModel.load(dir),
});

export { DEFAULT_C, type LinearConfig, linearConfigSchema, parseLinearConfig } from './config.ts';
export { type FeaturizerConfig, type FeaturizerState, HashedTfidfFeaturizer } from './featurizer.ts';
export { LINEAR_FORMAT_VERSION, LINEAR_V1, LinearModel } from './linear-model.ts';
