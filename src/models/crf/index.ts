import { registerModel } from '../registry.ts';
import { CrfTagger } from './crf-model.ts';

export { type CrfConfig, CrfConfigSchema, parseCrfConfig } from './crf-config.ts';
export { CRF_FORMAT_VERSION, CrfTagger } from './crf-model.ts';

registerModel('crf.v1', {
  description: 'Linear-chain CRF over rich token features (L-BFGS / OWL-QN), for NER.',
  create: (config) => new CrfTagger(config),
  load: (dir, config) => CrfTagger.load(dir, config),
});
