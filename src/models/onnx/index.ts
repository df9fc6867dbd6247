/** Registers the ONNX-backed model families `hf-onnx.v1` (imported Hugging Face models) and `external.v1`. */
import { registerModel } from '../registry.ts';
import { EXTERNAL_V1, ExternalModel } from './external-model.ts';
import { HF_ONNX_V1, HfOnnxModel } from './hf-onnx-model.ts';

export { EXTERNAL_V1, ExternalModel } from './external-model.ts';
export { HF_ONNX_V1, HfOnnxModel } from './hf-onnx-model.ts';

registerModel(HF_ONNX_V1, {
  description:
    'a token or sequence classifier imported from a Hugging Face ONNX export (config.json, tokenizer.json, onnx/model.onnx)',
  create: (config) => new HfOnnxModel(config),
  load: (dir, config) => HfOnnxModel.load(dir, config),
});

registerModel(EXTERNAL_V1, {
  description:
    'a model trained by an external command (e.g. a PyTorch fine-tuning script) that writes a Hugging Face ONNX directory',
  create: (config) => new ExternalModel(config),
  load: (dir, config) => ExternalModel.load(dir, config),
});
