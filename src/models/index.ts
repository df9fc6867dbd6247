/**
 * Registers every built-in model family (import for its side effects) and re-exports the model API.
 *
 * @example
 * import { createModel } from './models/index.ts';
 * const model = createModel('crf.v1', {});
 */
import './baseline/index.ts';
import './linear/index.ts';
import './perceptron/index.ts';
import './crf/index.ts';
import './rules/index.ts';
import './neural/taggers/index.ts';
import './neural/classifiers/index.ts';
import './mock/mock-model.ts';
import './onnx/index.ts';

export * from './model.ts';
export { createModel, listModels, loadModel, registerModel } from './registry.ts';
