import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeWordTags,
  entityTypes,
  labelsAsTags,
  planWindows,
  softmax,
  windowInput,
} from '../../../src/models/onnx/alignment.ts';
import { tokenize } from '../../../src/text/tokenizer.ts';

describe('planWindows + windowInput', () => {
  it('cover every word once, in order, and never exceed the budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(50), { maxLength: 6 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        (pieces, budget) => {
          const windows = planWindows(pieces, budget);
          let next = 0;
          for (const w of windows) {
            assert.equal(w.start, next, 'labelled runs are contiguous');
            assert.ok(w.from <= w.start && w.end <= w.to, 'context surrounds the labelled words');
            next = w.end;
            const input = windowInput(pieces, w, [101], [102], budget);
            assert.ok(
              input.ids.length - 2 <= budget,
              `window of ${input.ids.length - 2} sub-tokens > ${budget}`,
            );
            assert.equal(input.firstPiece.length, w.end - w.start, 'one first-piece position per word');
            input.firstPiece.forEach((pos, k) => {
              const word = pieces[w.start + k]!;
              if (word.length === 0) assert.equal(pos, -1, 'a word without sub-tokens has none');
              else assert.equal(input.ids[pos], word[0], 'the position holds the word’s first sub-token');
            });
          }
          assert.equal(next, pieces.length, 'every word is in a window');
        },
      ),
    );
  });

  it('labels runs of half the budget with context on both sides, and cuts a word longer than the budget', () => {
    const pieces = [[1], [2], [3], [4], [5], [6]];
    assert.deepEqual(
      planWindows(pieces, 6),
      [{ start: 0, end: 6, from: 0, to: 6 }],
      'one window when it fits',
    );
    assert.deepEqual(planWindows(pieces, 4), [
      { start: 0, end: 2, from: 0, to: 4 },
      { start: 2, end: 4, from: 1, to: 5 },
      { start: 4, end: 6, from: 2, to: 6 },
    ]);
    const middle = windowInput(pieces, { start: 2, end: 4, from: 1, to: 5 }, [0], [9], 4);
    assert.deepEqual(
      middle,
      { ids: [0, 2, 3, 4, 5, 9], firstPiece: [2, 3] },
      'context words are encoded, not labelled',
    );
    const long = [[1], [2, 3, 4, 5], [6]];
    assert.deepEqual(planWindows(long, 3), [
      { start: 0, end: 1, from: 0, to: 1 },
      { start: 1, end: 2, from: 1, to: 2 },
      { start: 2, end: 3, from: 2, to: 3 },
    ]);
    const cut = windowInput(long, { start: 1, end: 2, from: 1, to: 2 }, [0], [9], 3);
    assert.deepEqual(cut.ids, [0, 2, 3, 4, 9], 'the long word is cut to the budget');
  });
});

describe('tags and decoding', () => {
  it('reads bare labels as IO tags and refuses mixed label sets', () => {
    assert.deepEqual(labelsAsTags(['O', 'PER', 'LOC']), ['O', 'I-PER', 'I-LOC']);
    assert.deepEqual(labelsAsTags(['O', 'B-PER', 'I-PER']), ['O', 'B-PER', 'I-PER']);
    assert.equal(labelsAsTags(['O', 'B-PER', 'LOC']), null);
    assert.deepEqual(entityTypes(['O', 'B-PER', 'I-PER', 'S-LOC']), ['LOC', 'PER']);
  });

  it('softmax sums to one and is stable for large logits', () => {
    const p = softmax([1000, 1001, 999], 0, 3);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12, 'sums to 1');
    assert.ok(p[1]! > p[0]! && p[0]! > p[2]!, 'keeps the order');
  });

  it('decodes word tags into character spans with the product of word probabilities', () => {
    const text = 'a table at  Nobu Downtown tonight';
    const words = tokenize(text);
    const tags = ['O', 'B-NAME', 'I-NAME'];
    const row = (o: number, b: number, i: number) => Float64Array.from([o, b, i]);
    const probs = [
      row(0.9, 0.05, 0.05),
      row(1, 0, 0),
      row(1, 0, 0),
      row(0.1, 0.8, 0.1),
      row(0.2, 0.1, 0.7),
      null,
    ];
    const spans = decodeWordTags(words, probs, tags);
    assert.equal(spans.length, 1, 'one entity');
    assert.equal(
      text.slice(spans[0]!.start, spans[0]!.end),
      'Nobu Downtown',
      'character span in the original text',
    );
    assert.equal(spans[0]!.label, 'NAME');
    assert.ok(Math.abs(spans[0]!.score - 0.8 * 0.7) < 1e-12, `score ${spans[0]!.score}`);
  });
});
