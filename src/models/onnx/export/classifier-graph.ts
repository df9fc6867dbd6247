/**
 * The ONNX graph of a neural text classifier's scoring part (`embedding-bag.v1`, `text-cnn.v1`):
 * word ids (and hashed n-gram ids) → logits. Softmax / sigmoids and thresholds stay in TypeScript.
 *
 * Inputs (batch-major, padded with the table's size — a zero row — to at least one column):
 * - `word_ids` int64 [B × W];
 * - `gram_ids` int64 [B × G] (embedding bag with n-gram buckets only).
 * Output: `logits` float32 [B × labels].
 */
import { type ClassifierNetwork, CnnEncoder } from '../../neural/classifiers/network.ts';
import { attr, OnnxGraphBuilder } from '../graph-builder.ts';
import {
  conv1d,
  embeddingLookup,
  floatScalar,
  linear,
  realMask,
  reduceMax,
  reduceSum,
  unsqueeze,
} from './layers.ts';

/** Output name of the classifier graphs. */
export const LOGITS = 'logits';

/** Metadata written into a classifier graph. */
export interface ClassifierGraphMeta {
  architecture: string;
  labels: readonly string[];
}

/** Builds the logits graph of a fitted classifier network (see the module comment). */
export function buildClassifierGraph(net: ClassifierNetwork, meta: ClassifierGraphMeta): Uint8Array {
  const o = net.opts;
  const g = new OnnxGraphBuilder(meta.architecture.replace(/\W/g, '_'));
  const wordIds = g.input('word_ids', 'int64', ['B', 'W']);
  const enc = net.encoder;
  let features: string;
  if (enc instanceof CnnEncoder) {
    const e = embeddingLookup(g, 'words', enc.words.value, o.vocabSize, o.dim, wordIds); // [B × T × D]
    const x = g.node('Transpose', [e], ['words_bdt'], { perm: attr.ints([0, 2, 1]) });
    const mask = unsqueeze(g, realMask(g, wordIds, o.vocabSize), 1); // [B × 1 × T]
    // ReLU outputs are ≥ 0, so zeroing padding steps leaves the max over the real steps (0 for empty docs).
    const pooled = enc.convs.map((conv, i) => {
      const h = g.node('Relu', [conv1d(g, `conv${i}`, conv, x)], [g.fresh('relu')]);
      return reduceMax(g, g.node('Mul', [h, mask], [g.fresh('masked')]), 2);
    });
    features = g.node('Concat', pooled, ['pooled'], { axis: attr.int(1) });
  } else {
    const sum = reduceSum(
      g,
      embeddingLookup(g, 'words', enc.words.value, o.vocabSize, o.dim, wordIds),
      1,
      false,
    );
    let count = reduceSum(g, realMask(g, wordIds, o.vocabSize), 1, true); // [B × 1]
    let total = sum;
    if (enc.grams) {
      const gramIds = g.input('gram_ids', 'int64', ['B', 'G']);
      const gsum = reduceSum(
        g,
        embeddingLookup(g, 'ngrams', enc.grams.value, o.buckets, o.dim, gramIds),
        1,
        false,
      );
      total = g.node('Add', [sum, gsum], ['bag_sum']);
      const gcount = reduceSum(g, realMask(g, gramIds, o.buckets), 1, true);
      count = g.node('Add', [count, gcount], ['bag_count']);
    }
    // Mean over the bag; an empty bag gives zeros (sum 0 / max(count, 1)).
    const safe = g.node('Max', [count, floatScalar(g, 'one', 1)], ['bag_count_safe']);
    features = g.node('Div', [total, safe], ['bag_mean']);
  }
  g.node('Identity', [linear(g, 'out', net.out, features)], [LOGITS]);
  g.output(LOGITS, 'float32', ['B', o.labels]);
  g.meta('sapphire.architecture', meta.architecture);
  g.meta('sapphire.labels', JSON.stringify(meta.labels));
  g.meta('sapphire.padding', JSON.stringify({ word_ids: o.vocabSize, gram_ids: o.buckets }));
  return g.toBytes();
}
