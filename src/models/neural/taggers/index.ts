/** Registers the neural NER taggers `bilstm-crf.v1` and `idcnn-crf.v1`. */
import { registerModel } from '../../registry.ts';
import { NeuralTagger } from './neural-tagger.ts';

export { NEURAL_TAGGER_FORMAT_VERSION, NeuralTagger } from './neural-tagger.ts';
export {
  BiLstmCrfConfigSchema,
  IdCnnCrfConfigSchema,
  type NeuralTaggerConfig,
  parseNeuralTaggerConfig,
} from './tagger-config.ts';

registerModel('bilstm-crf.v1', {
  description:
    'BiLSTM-CRF NER tagger: word embeddings (optionally pretrained) + char-CNN, trained in TypeScript.',
  create: (config) => new NeuralTagger('bilstm-crf.v1', 'bilstm', config),
  load: (dir, config) => NeuralTagger.load('bilstm-crf.v1', 'bilstm', dir, config),
});

registerModel('idcnn-crf.v1', {
  description: 'Iterated dilated CNN + CRF NER tagger: a faster convolutional alternative to the BiLSTM-CRF.',
  create: (config) => new NeuralTagger('idcnn-crf.v1', 'idcnn', config),
  load: (dir, config) => NeuralTagger.load('idcnn-crf.v1', 'idcnn', dir, config),
});
