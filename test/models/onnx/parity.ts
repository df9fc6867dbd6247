/** Shared checks of the ONNX export tests: the exported graph scores like the TypeScript network. */
import assert from 'node:assert/strict';
import type { Model, ModelInput } from '../../../src/models/model.ts';
import { createOrtSession, runFeeds } from '../../../src/models/onnx/onnx-runtime.ts';
import { isOnnxExportable, type OnnxExportable } from '../../../src/models/onnx/scoring.ts';

/** Tolerance of the parity tests (the issue asks for 1e-5). */
export const TOLERANCE = 1e-5;

/**
 * Runs every batch of `inputs` through the model's TypeScript network and through its exported graph
 * in onnxruntime-node; asserts the scores agree within {@link TOLERANCE} at every position `compare`
 * selects (default: all); returns the number of values compared.
 */
export async function assertOnnxParity(
  model: Model,
  inputs: ModelInput[],
  compare: (batch: number, index: number) => boolean = () => true,
): Promise<number> {
  assert.ok(isOnnxExportable(model), `${model.name} is exportable`);
  const m = model as OnnxExportable;
  const graph = m.toOnnx();
  const session = await createOrtSession(graph.bytes, { threads: 1 });
  const job = m.onnxScoring(inputs);
  assert.ok(job.batches > 0, 'at least one batch to compare');
  let compared = 0;
  let worst = 0;
  for (let b = 0; b < job.batches; b++) {
    const native = job.nativeScores(b);
    const onnx = await runFeeds(session, job.feeds(b), graph.output);
    assert.equal(onnx.length, native.length, `batch ${b}: same number of scores`);
    for (let i = 0; i < native.length; i++) {
      if (!compare(b, i)) continue;
      const d = Math.abs(onnx[i]! - native[i]!);
      if (d > worst) worst = d;
      compared++;
    }
  }
  await session.release();
  assert.ok(worst <= TOLERANCE, `largest difference ${worst} is within ${TOLERANCE}`);
  return compared;
}
