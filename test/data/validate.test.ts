import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Example } from '../../src/data/types.ts';
import { validateExamples, validateExamplesIndexed } from '../../src/data/validate.ts';

const ex = (id: string, text: string, extra: Partial<Example> = {}): Example => ({
  id,
  text,
  meta: {},
  ...extra,
});
const messages = (examples: Example[], options = {}) =>
  validateExamples(examples, options).map((p) => p.message);

describe('validateExamples', () => {
  it('accepts good examples', () => {
    const good = [
      ex('a', 'Nike shoes', { spans: [{ start: 0, end: 4, label: 'BRAND' }] }),
      ex('b', 'hello', { labels: ['greet'] }),
    ];
    assert.deepEqual(validateExamples(good), []);
  });

  it('reports empty texts and duplicate ids with the example id and file', () => {
    const problems = validateExamples([ex('a', '  '), ex('b', 'x'), ex('b', 'y')], { file: 'data.jsonl' });
    assert.equal(problems.length, 2);
    assert.deepEqual(problems[0], {
      message: 'text is empty; fill in the text or remove the example',
      exampleId: 'a',
      file: 'data.jsonl',
    });
    assert.match(problems[1]!.message, /duplicate id 'b' \(first used by example #2\)/);
    assert.equal(problems[1]!.exampleId, 'b');
  });

  it('reports spans outside the text, empty, reversed and overlapping', () => {
    const m = messages([
      ex('a', 'Nike', { spans: [{ start: 0, end: 9, label: 'BRAND' }] }),
      ex('b', 'Nike', { spans: [{ start: 3, end: 3, label: 'BRAND' }] }),
      ex('c', 'Air Jordan', {
        spans: [
          { start: 0, end: 10, label: 'BRAND' },
          { start: 4, end: 10, label: 'PRODUCT' },
        ],
      }),
    ]);
    assert.match(m[0]!, /span \[0, 9\) 'BRAND' goes past the end of the text \(length 4\)/);
    assert.match(m[1]!, /ends before it starts/);
    assert.match(m[2]!, /overlap; keep only one/);
  });

  it('reports spans off token boundaries using the given tokens, or the tokenizer', () => {
    const m = messages([
      ex('a', 'Nikes are great', { spans: [{ start: 0, end: 4, label: 'BRAND' }] }),
      ex('b', 'Nikes', {
        tokens: [
          { text: 'Nike', start: 0, end: 4 },
          { text: 's', start: 4, end: 5 },
        ],
        spans: [{ start: 0, end: 4, label: 'BRAND' }],
      }),
    ]);
    assert.equal(m.length, 1);
    assert.match(m[0]!, /"Nike"\) does not end on a token boundary \(the tokenizer: 'Nikes' \[0, 5\)\)/);
  });

  it('reports tokens that do not match the text', () => {
    const m = messages([ex('a', 'hello', { tokens: [{ text: 'help', start: 0, end: 4 }] })]);
    assert.match(m[0]!, /token 0 'help' does not match the text at \[0, 4\) \('hell'\)/);
  });

  it('reports unknown labels, naming the allowed ones', () => {
    const m = messages(
      [
        ex('a', 'Gucci bag', { spans: [{ start: 0, end: 5, label: 'DESIGNER' }] }),
        ex('b', 'hi', { labels: ['x'] }),
      ],
      { labelSet: ['BRAND', 'PRODUCT'] },
    );
    assert.deepEqual(m, [
      "unknown span label 'DESIGNER'; allowed: BRAND, PRODUCT (fix the label or add it to the label set)",
      "unknown label 'x'; allowed: BRAND, PRODUCT (fix the label or add it to the label set)",
    ]);
    assert.deepEqual(messages([ex('b', 'hi', { labels: ['x'] })], { labelSet: ['y'], task: 'ner' }), [
      'has no spans; use an empty list for a text without entities',
    ]);
  });

  it('checks the task shape', () => {
    assert.deepEqual(messages([ex('a', 'hi')], { task: 'classify' }), [
      'has no label; give it one class label or remove it',
    ]);
    assert.match(messages([ex('a', 'hi', { labels: ['x', 'y'] })], { task: 'classify' })[0]!, /has 2 labels/);
    assert.deepEqual(messages([ex('a', 'hi', { labels: [] })], { task: 'multilabel' }), []);
  });

  it('keeps the index of the offending example', () => {
    const indexed = validateExamplesIndexed([ex('a', 'x'), ex('a', 'y')]);
    assert.deepEqual(
      indexed.map((p) => p.index),
      [1],
    );
  });
});
