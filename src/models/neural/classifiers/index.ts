/**
 * The neural text classifiers: importing this module registers `embedding-bag.v1` (fastText-style) and
 * `text-cnn.v1` (Kim-style CNN), both trained with the engine of ADR 0008.
 */
import { registerModel } from '../../registry.ts';
import { NeuralClassifier } from './classifier-model.ts';

registerModel('embedding-bag.v1', {
  description:
    'fastText-style classifier: averaged word (+ hashed char n-gram / word bigram) embeddings, linear softmax or sigmoids; optional pretrained vectors',
  create: (config) => new NeuralClassifier('embedding-bag', config),
  load: (dir) => NeuralClassifier.load('embedding-bag', dir),
});

registerModel('text-cnn.v1', {
  description:
    'Kim-style CNN classifier: word embeddings, 1-D convolutions of several widths, max over time, dropout, linear',
  create: (config) => new NeuralClassifier('text-cnn', config),
  load: (dir) => NeuralClassifier.load('text-cnn', dir),
});

export {
  EMBEDDING_BAG_V1,
  NEURAL_CLASSIFIER_FORMAT_VERSION,
  NeuralClassifier,
  TEXT_CNN_V1,
} from './classifier-model.ts';
export {
  type ClassifierConfig,
  EmbeddingBagConfigSchema,
  parseClassifierConfig,
  TextCnnConfigSchema,
} from './config.ts';
