/**
 * The ONNX graph of a neural tagger's scoring part (`bilstm-crf.v1`, `idcnn-crf.v1`): word ids and
 * char ids → emission scores. The CRF (Viterbi, span probabilities) stays in TypeScript.
 *
 * Inputs (time-major like the engine; padding id = vocabulary size, a zero row):
 * - `word_ids` int64 [T × B];
 * - `char_ids` int64 [T × B × C] (only with character features);
 * - `lengths` int32 [B] (every length ≥ 1).
 * Output: `emissions` float32 [T × B × tags] (rows past a sentence's length are meaningless).
 */
import { CharCnn } from '../../neural/engine/char-features.ts';
import { BiLstmEncoder, IdCnnEncoder, type TaggerNetwork } from '../../neural/taggers/network.ts';
import { attr, OnnxGraphBuilder } from '../graph-builder.ts';
import {
  applyConv,
  biLstm,
  type ConvWeights,
  conv1d,
  convWeights,
  embeddingLookup,
  floatScalar,
  int64Const,
  linear,
  realMask,
  reduceMax,
  unsqueeze,
} from './layers.ts';

/** Output name of the tagger graphs. */
export const EMISSIONS = 'emissions';

/** Score added to the char-CNN outputs at padding characters, so the max over characters ignores them. */
const MASKED = -1e9;

/** Metadata written into a tagger graph. */
export interface TaggerGraphMeta {
  architecture: string;
  tags: readonly string[];
}

/** Builds the emission graph of a fitted tagger network (see the module comment). */
export function buildTaggerGraph(net: TaggerNetwork, meta: TaggerGraphMeta): Uint8Array {
  const o = net.options;
  const g = new OnnxGraphBuilder(meta.architecture.replace(/\W/g, '_'));
  const wordIds = g.input('word_ids', 'int64', ['T', 'B']);
  const lengths = g.input('lengths', 'int32', ['B']);
  const tokenMask = unsqueeze(g, realMask(g, wordIds, o.words), 2); // [T × B × 1]
  const batchShape = g.node('Shape', [wordIds], ['batch_shape']); // [T, B]
  let x = embeddingLookup(g, 'words', net.words.table.value, o.words, o.wordDim, wordIds);
  if (net.chars instanceof CharCnn) {
    const charIds = g.input('char_ids', 'int64', ['T', 'B', 'C']);
    const flat = g.node('Flatten', [charIds], ['char_ids_flat'], { axis: attr.int(2) }); // [N × C]
    const ce = embeddingLookup(g, 'chars', net.chars.embedding.table.value, o.chars, o.charDim, flat);
    const ct = g.node('Transpose', [ce], ['chars_nct'], { perm: attr.ints([0, 2, 1]) }); // [N × cd × C]
    const act = g.node('Tanh', [conv1d(g, 'chars.conv', net.chars.conv, ct)], ['chars_act']);
    // (mask − 1) · 1e9: 0 at real characters, −1e9 at padding.
    const charMask = realMask(g, flat, o.chars);
    const one = floatScalar(g, 'one', 1);
    const big = floatScalar(g, 'big', -MASKED);
    const offset = g.node('Mul', [g.node('Sub', [charMask, one], ['char_pad']), big], ['char_offset']);
    const pooled = reduceMax(g, g.node('Add', [act, unsqueeze(g, offset, 1)], ['chars_masked']), 2);
    const shape = g.node('Concat', [batchShape, int64Const(g, 'width', [o.charFilters])], ['chars_shape'], {
      axis: attr.int(0),
    });
    const words = g.node('Reshape', [pooled, shape], ['char_features']); // [T × B × F]
    x = g.node('Concat', [x, words], ['token_features'], { axis: attr.int(2) });
  }
  x = g.node('Mul', [x, tokenMask], ['token_features_masked']);
  let h: string;
  const enc = net.encoder;
  if (enc instanceof BiLstmEncoder) {
    h = biLstm(g, 'bilstm', enc.bi, x, lengths, batchShape);
  } else if (enc instanceof IdCnnEncoder) {
    const maskBct = g.node('Transpose', [tokenMask], ['mask_b1t'], { perm: attr.ints([1, 2, 0]) });
    let c = g.node('Transpose', [x], ['features_bdt'], { perm: attr.ints([1, 2, 0]) });
    const layer = (weights: ConvWeights) => {
      const relu = g.node('Relu', [applyConv(g, weights, c)], [g.fresh('idcnn.relu')]);
      c = g.node('Mul', [relu, maskBct], [g.fresh('idcnn.out')]);
    };
    layer(convWeights(g, 'idcnn.in', enc.input));
    const block = enc.block.map((conv, i) => convWeights(g, `idcnn.block.${i}`, conv));
    for (let it = 0; it < enc.iterations; it++) block.forEach(layer);
    h = g.node('Transpose', [c], ['encoded'], { perm: attr.ints([2, 0, 1]) });
  } else {
    throw new Error('unknown tagger encoder');
  }
  g.node('Identity', [linear(g, 'emissions_linear', net.out, h)], [EMISSIONS]);
  g.output(EMISSIONS, 'float32', ['T', 'B', net.tagSet.size]);
  g.meta('sapphire.architecture', meta.architecture);
  g.meta('sapphire.tags', JSON.stringify(meta.tags));
  g.meta('sapphire.padding', JSON.stringify({ word_ids: o.words, char_ids: o.chars }));
  return g.toBytes();
}
