/**
 * Writes a fitted model as an ONNX model directory: the native files (model.json with the labels,
 * vocab.json / features.json, weights) plus `model.onnx`, and checks that onnxruntime-node loads
 * the graph and scores a probe text like the TypeScript model.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SapphireError } from '../../core/errors.ts';
import type { Model } from '../model.ts';
import { MODEL_MANIFEST } from '../registry.ts';
import { createOrtSession, exportableOrThrow, ONNX_FILE, runFeeds } from './onnx-runtime.ts';

/** Texts the export scores natively and through ORT to check the graph. */
const PROBE_TEXTS = ['Sapphire exports this model to ONNX', 'warm-up'];

/** Largest score difference the export accepts (the parity tests hold 1e-5 on real inputs). */
const MAX_DIFF = 1e-4;

/** What {@link exportOnnx} wrote and checked. */
export interface OnnxExportResult {
  architecture: string;
  dir: string;
  file: string;
  bytes: number;
  /** Graph inputs and the output holding the scores. */
  inputs: string[];
  output: string;
  /** Largest absolute difference between the TypeScript and ORT scores on the probe texts. */
  maxAbsDiff: number;
}

/**
 * Exports `model` into `dir`: saves the model there unless `dir` already holds it (`saveModel: false`),
 * writes `model.onnx`, and verifies it through onnxruntime-node; throws for models that cannot be exported.
 *
 * @example
 * const result = await exportOnnx(await loadModel('models/ner'), 'models/ner', { saveModel: false });
 */
export async function exportOnnx(
  model: Model,
  dir: string,
  options: { saveModel?: boolean; where?: string } = {},
): Promise<OnnxExportResult> {
  const exportable = exportableOrThrow(model, options.where ?? model.name);
  const graph = exportable.toOnnx();
  if (options.saveModel !== false) await exportable.save(dir);
  else if (!existsSync(join(dir, MODEL_MANIFEST))) {
    throw new SapphireError('NOT_FOUND', `${dir} holds no saved model (${MODEL_MANIFEST})`, {
      hint: 'pass --out <new folder> to write the model and its model.onnx together',
    });
  }
  const session = await createOrtSession(graph.bytes, { threads: 1 });
  const inputs = session.inputNames.slice();
  let maxAbsDiff = 0;
  try {
    // One text per run: every score is a real one (no padding rows to leave out).
    for (const text of PROBE_TEXTS) {
      const job = exportable.onnxScoring([{ text }]);
      for (let b = 0; b < job.batches; b++) {
        const native = job.nativeScores(b);
        const onnx = await runFeeds(session, job.feeds(b), graph.output);
        for (let i = 0; i < native.length; i++)
          maxAbsDiff = Math.max(maxAbsDiff, Math.abs(native[i]! - onnx[i]!));
      }
    }
  } finally {
    await session.release();
  }
  if (!(maxAbsDiff <= MAX_DIFF)) {
    throw new SapphireError(
      'INTERNAL',
      `the ONNX graph of ${model.name} scores the probe texts differently from the TypeScript model (largest difference ${maxAbsDiff})`,
      {
        hint: 'this is a bug in the exporter: report it with the model directory; serve the model natively meanwhile',
      },
    );
  }
  const file = join(dir, ONNX_FILE);
  await writeFile(file, graph.bytes);
  return {
    architecture: model.name,
    dir,
    file,
    bytes: graph.bytes.length,
    inputs,
    output: graph.output,
    maxAbsDiff,
  };
}
