import { registerModel } from '../registry.ts';
import { PerceptronTagger } from './perceptron-model.ts';

export { type PerceptronConfig, PerceptronConfigSchema, parsePerceptronConfig } from './perceptron-config.ts';
export { PERCEPTRON_FORMAT_VERSION, PerceptronTagger } from './perceptron-model.ts';

registerModel('perceptron.v1', {
  description: 'Averaged structured perceptron with Viterbi decoding over rich token features, for NER.',
  create: (config) => new PerceptronTagger(config),
  load: (dir, config) => PerceptronTagger.load(dir, config),
});
