import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SubwordEncoder } from '../../../src/models/onnx/subword-encoder.ts';
import { tokenize } from '../../../src/text/tokenizer.ts';
import { SHARED } from '../../cli/helpers.ts';
import { bertTokenizerJson } from '../../fixtures/onnx/tiny-hf-model.ts';

const MINILM = join(SHARED, 'vectors', 'minilm-tokenizer');

describe('SubwordEncoder', () => {
  it('finds the special tokens of the post-processor and encodes words to sub-tokens', () => {
    const enc = SubwordEncoder.fromJson(bertTokenizerJson(['book', 'nob', '##u']), {}, 'tokenizer.json');
    assert.deepEqual(enc.prefix, [2], '[CLS] before');
    assert.deepEqual(enc.suffix, [3], '[SEP] after');
    assert.equal(enc.padId, 0);
    assert.deepEqual(enc.encodeWord('Nobu', true), [5, 6], 'lower-cased WordPiece split');
    assert.deepEqual(enc.encodeWord('zebra', true), [1], 'unknown word → [UNK]');
  });

  it('refuses an unsupported tokenizer, naming the file and the field', () => {
    const json = bertTokenizerJson(['a']);
    (json.model as Record<string, unknown>).type = 'WordLevel';
    assert.throws(
      () => SubwordEncoder.fromJson(json, {}, '/m/tokenizer.json'),
      (e: Error & { details?: { path?: string } }) =>
        /\/m\/tokenizer\.json, field model\.type: unsupported tokenizer model type "WordLevel"/.test(
          e.message,
        ) && e.details?.path === 'model.type',
    );
    assert.throws(() => SubwordEncoder.fromJson({ version: '1.0' }, {}, 't.json'), /no "model" object/);
  });

  // Sapphire's words never cross a BERT word boundary except contractions (do + n't), so where a text has none
  // the word-by-word ids are exactly the library's own encoding of the whole text.
  it('word-by-word ids equal the whole-text encoding of a real BERT tokenizer (all-MiniLM)', {
    skip: existsSync(MINILM) ? false : `${MINILM} not found`,
  }, () => {
    const enc = SubwordEncoder.fromJson(
      JSON.parse(readFileSync(join(MINILM, 'tokenizer.json'), 'utf8')),
      JSON.parse(readFileSync(join(MINILM, 'tokenizer_config.json'), 'utf8')),
      'tokenizer.json',
    );
    for (const text of [
      'Any Mexican restaurants open after 11 pm near the airport?',
      'I never pay $12.99 for unaffable café-style sushi :)',
      'Zürich’s best 5-star ramen, e-mail info@example.com',
    ]) {
      const words = tokenize(text);
      const ids = [...enc.prefix, ...words.flatMap((w, i) => enc.encodeWord(w.text, i > 0)), ...enc.suffix];
      assert.deepEqual(ids, enc.encodeWhole(text), text);
    }
  });
});
