import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SubwordEncoder, wordPosition } from '../../../src/models/onnx/subword-encoder.ts';
import { tokenize } from '../../../src/text/tokenizer.ts';
import { SHARED } from '../../cli/helpers.ts';
import { addedToken, bertTokenizerJson } from '../../fixtures/onnx/tiny-hf-model.ts';

const MINILM = join(SHARED, 'vectors', 'minilm-tokenizer');

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');

/** A RoBERTa-style byte-level BPE tokenizer.json with a few merges. */
function byteLevelBpe(): Record<string, unknown> {
  const merges = [
    'h e',
    'l l',
    'he ll',
    'hell o',
    'Ġ w',
    'Ġw o',
    'Ġwo r',
    'Ġwor l',
    'Ġworl d',
    'Ġ h',
    'Ġh e',
    'Ġhe ll',
    'Ġhell o',
  ];
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const t of [...LETTERS, 'Ġ', ',', ...merges.map((m) => m.replace(' ', ''))])
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>'].map(addedToken),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** A T5-style SentencePiece Unigram tokenizer.json (Metaspace, `</s>` appended). */
function metaspaceUnigram(): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: ['<pad>', '</s>', '<unk>'].map(addedToken),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: {
      type: 'Unigram',
      unk_id: 2,
      byte_fallback: false,
      vocab: [
        ['<pad>', 0],
        ['</s>', 0],
        ['<unk>', 0],
        ['▁hello', -1],
        ['▁world', -1.5],
        ['▁', -2],
        [',', -2],
        ...LETTERS.map((l) => [l, -5]),
      ],
    },
  };
}

/** The ids of a text encoded word by word, with the post-processor's special tokens around them. */
function byWords(enc: SubwordEncoder, text: string): number[] {
  const words = tokenize(text);
  return [
    ...enc.prefix,
    ...words.flatMap((w, i) => enc.encodeWord(w.text, wordPosition(words, i))),
    ...enc.suffix,
  ];
}

describe('SubwordEncoder', () => {
  for (const [name, json, specials] of [
    ['byte-level BPE (RoBERTa)', byteLevelBpe(), [[0], [2]]],
    ['Metaspace Unigram (T5)', metaspaceUnigram(), [[], [1]]],
  ] as const) {
    it(`encodes words like running text: ${name}`, () => {
      const enc = SubwordEncoder.fromJson(json, {}, 'tokenizer.json');
      assert.deepEqual([enc.prefix, enc.suffix], specials, 'special tokens from the post-processor');
      for (const text of ['hello world hello', 'world, hello', 'hello world,world']) {
        assert.deepEqual(byWords(enc, text), enc.encodeWhole(text), text);
      }
    });
  }

  it('finds the special tokens of the post-processor and encodes words to sub-tokens', () => {
    const enc = SubwordEncoder.fromJson(bertTokenizerJson(['book', 'nob', '##u']), {}, 'tokenizer.json');
    assert.deepEqual(enc.prefix, [2], '[CLS] before');
    assert.deepEqual(enc.suffix, [3], '[SEP] after');
    assert.equal(enc.padId, 0);
    assert.deepEqual(enc.encodeWord('Nobu', 'spaced'), [5, 6], 'lower-cased WordPiece split');
    assert.deepEqual(enc.encodeWord('zebra', 'spaced'), [1], 'unknown word → [UNK]');
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
      assert.deepEqual(byWords(enc, text), enc.encodeWhole(text), text);
    }
  });
});
