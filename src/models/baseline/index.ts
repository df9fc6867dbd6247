/**
 * Baseline models: importing this module registers `majority.v1`, `random.v1` and `token-majority.v1`, the
 * floors every real model must beat.
 */
import { registerModel } from '../registry.ts';
import { MAJORITY_V1, MajorityModel } from './majority.ts';
import { RANDOM_V1, RandomModel } from './random.ts';
import { TOKEN_MAJORITY_V1, TokenMajorityModel } from './token-majority.ts';

registerModel(MAJORITY_V1, {
  description: 'Baseline: predicts the most frequent training class; probabilities are class frequencies',
  create: (config) => new MajorityModel(config),
  load: (dir) => MajorityModel.load(dir),
});

registerModel(RANDOM_V1, {
  description: 'Baseline: seeded random labels, uniform or by training frequency',
  create: (config) => new RandomModel(config),
  load: (dir) => RandomModel.load(dir),
});

registerModel(TOKEN_MAJORITY_V1, {
  description: 'NER baseline: the most frequent BIO tag of each token in training, decoded to spans',
  create: (config) => new TokenMajorityModel(config),
  load: (dir) => TokenMajorityModel.load(dir),
});

export { bioToSpans, OUTSIDE, spansToBio } from './bio.ts';
export { MAJORITY_FORMAT_VERSION, MAJORITY_V1, MajorityModel } from './majority.ts';
export { RANDOM_FORMAT_VERSION, RANDOM_V1, RandomModel } from './random.ts';
export { TOKEN_MAJORITY_FORMAT_VERSION, TOKEN_MAJORITY_V1, TokenMajorityModel } from './token-majority.ts';
