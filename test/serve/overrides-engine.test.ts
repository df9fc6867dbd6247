/** The overrides engine: validation, every action × match × target, and properties over random rules and texts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import type { TaskKind } from '../../src/data/types.ts';
import type { Prediction } from '../../src/models/model.ts';
import {
  applyOverrides,
  compileOverrides,
  type ServedResult,
  validateOverride,
} from '../../src/serve/overrides-engine.ts';
import type {
  NewOverride,
  Override,
  OverrideAction,
  OverrideMatch,
  OverrideTarget,
} from '../../src/store/serving-store.ts';

let nextId = 1;

function rule(
  action: OverrideAction,
  match: OverrideMatch,
  pattern: string,
  target: OverrideTarget,
  label: string,
  extra: Partial<Override> = {},
): Override {
  return {
    id: `ov_${nextId++}`,
    tenant: 'default',
    model: 'm',
    action,
    match,
    pattern,
    flags: '',
    target,
    label,
    note: null,
    createdBy: 'test',
    createdAt: '2024-01-01T00:00:00.000Z',
    removedBy: null,
    removedAt: null,
    hits: 0,
    ...extra,
  };
}

function apply(task: TaskKind, rules: Override[], text: string, prediction: Prediction): ServedResult {
  return applyOverrides(compileOverrides(rules), task, text, prediction);
}

const CLASS_PRED: Prediction = {
  labels: ['card_arrival'],
  scores: [
    { label: 'card_arrival', score: 0.7 },
    { label: 'lost_card', score: 0.2 },
    { label: 'refund', score: 0.1 },
  ],
};

function labelsOf(r: ServedResult): string[] {
  return (r.labels ?? []).map((l) => l.label);
}

function entitiesOf(r: ServedResult): string[] {
  return (r.entities ?? []).map((e) => `${e.label}:${e.text}@${e.start}`);
}

function spansFor(text: string, pairs: [string, string][]): Prediction {
  let from = 0;
  return {
    spans: pairs.map(([word, label]) => {
      const start = text.indexOf(word, from);
      from = start + word.length;
      return { start, end: start + word.length, label, score: 0.8 };
    }),
  };
}

describe('validateOverride', () => {
  const base: NewOverride = {
    tenant: 'default',
    model: 'm',
    action: 'never',
    match: 'phrase',
    pattern: 'apple pie',
    target: 'entity',
    label: 'BRAND',
    createdBy: 'test',
  };

  function fails(input: Partial<NewOverride>, path: string, task?: TaskKind): void {
    assert.throws(
      () => validateOverride({ ...base, ...input } as NewOverride, task),
      (err: unknown) =>
        err instanceof SapphireError &&
        err.code === 'BAD_INPUT' &&
        err.details.path === path &&
        typeof err.hint === 'string',
      `expected BAD_INPUT at ${path} for ${JSON.stringify(input)}`,
    );
  }

  it('accepts good rules', () => {
    validateOverride(base, 'ner');
    validateOverride({ ...base, match: 'regex', pattern: '^a+$', flags: 'imsu' }, 'ner');
    validateOverride({ ...base, target: 'class', label: 'refund' }, 'classify');
    validateOverride({ ...base, target: 'class', label: 'refund' }, 'multilabel');
    validateOverride({ ...base, target: 'class' });
  });

  it('names the field of each problem', () => {
    fails({ action: 'sometimes' as OverrideAction }, 'action');
    fails({ match: 'fuzzy' as OverrideMatch }, 'match');
    fails({ target: 'token' as OverrideTarget }, 'target');
    fails({ pattern: '   ' }, 'pattern');
    fails({ pattern: 'x'.repeat(5000) }, 'pattern');
    fails({ label: '' }, 'label');
    fails({ model: '' }, 'model');
    fails({ match: 'regex', pattern: '(unclosed' }, 'pattern');
    fails({ match: 'regex', pattern: '^(a+)+$' }, 'pattern'); // exponential backtracking on "aaaa…b"
    fails({ match: 'regex', pattern: 'a', flags: 'g' }, 'flags');
    fails({ match: 'regex', pattern: 'a', flags: 'ii' }, 'flags');
    fails({ match: 'phrase', flags: 'i' }, 'flags');
    fails({ target: 'class' }, 'target', 'ner');
    fails({ target: 'entity' }, 'target', 'classify');
    fails({ target: 'entity' }, 'target', 'multilabel');
  });
});

describe('compileOverrides', () => {
  it('skips removed rules', () => {
    const removed = rule('never', 'exact', 'x', 'class', 'a', { removedAt: '2024-01-02T00:00:00.000Z' });
    const compiled = compileOverrides([removed, rule('always', 'exact', 'x', 'class', 'b')]);
    assert.equal(compiled.size, 1);
    assert.equal(compiled.classNever.size, 0);
    assert.equal(compiled.classAlways.length, 1);
  });
});

describe('applyOverrides — class rules (classify)', () => {
  it('with no rules serves the prediction as is', () => {
    const r = apply('classify', [], 'where is my card?', CLASS_PRED);
    assert.deepEqual(r, {
      labels: [{ label: 'card_arrival', score: 0.7 }],
      scores: CLASS_PRED.scores,
      overrides: [],
    });
  });

  it('always + exact: the whole text (trimmed, case-sensitive) chooses the label with score 1', () => {
    const a = rule('always', 'exact', 'my card is gone', 'class', 'lost_card');
    const hit = apply('classify', [a], '  my card is gone ', CLASS_PRED);
    assert.deepEqual(hit.labels, [{ label: 'lost_card', score: 1, override: a.id }]);
    assert.deepEqual(hit.overrides, [{ id: a.id, action: 'always', label: 'lost_card', target: 'class' }]);
    assert.deepEqual(hit.scores, CLASS_PRED.scores, 'the model scores are kept');
    assert.deepEqual(labelsOf(apply('classify', [a], 'My card is gone', CLASS_PRED)), ['card_arrival']);
    assert.deepEqual(labelsOf(apply('classify', [a], 'my card is gone now', CLASS_PRED)), ['card_arrival']);
  });

  it('always + phrase: whole words, any case', () => {
    const a = rule('always', 'phrase', 'Lost Card', 'class', 'lost_card');
    assert.deepEqual(labelsOf(apply('classify', [a], 'I LOST CARD, help', CLASS_PRED)), ['lost_card']);
    assert.deepEqual(labelsOf(apply('classify', [a], 'I lost cards', CLASS_PRED)), ['card_arrival']);
  });

  it('always + regex: with flags', () => {
    const a = rule('always', 'regex', '\\brefund(ed)?\\b', 'class', 'refund', { flags: 'i' });
    assert.deepEqual(labelsOf(apply('classify', [a], 'REFUNDED twice', CLASS_PRED)), ['refund']);
    assert.deepEqual(labelsOf(apply('classify', [a], 'refunds', CLASS_PRED)), ['card_arrival']);
  });

  it('always on the label the model already chose changes nothing and is not listed', () => {
    const a = rule('always', 'phrase', 'card', 'class', 'card_arrival');
    const r = apply('classify', [a], 'my card', CLASS_PRED);
    assert.deepEqual(r.labels, [{ label: 'card_arrival', score: 0.7 }]);
    assert.deepEqual(r.overrides, []);
  });

  it('the oldest matching always-rule decides', () => {
    const a = rule('always', 'phrase', 'card', 'class', 'lost_card');
    const b = rule('always', 'phrase', 'card', 'class', 'refund');
    const r = apply('classify', [a, b], 'my card', CLASS_PRED);
    assert.deepEqual(labelsOf(r), ['lost_card']);
    assert.deepEqual(
      r.overrides.map((o) => o.id),
      [a.id],
    );
  });

  for (const [match, pattern] of [
    ['exact', 'where is my card?'],
    ['phrase', 'MY CARD'],
    ['regex', 'card\\?$'],
  ] as [OverrideMatch, string][]) {
    it(`never + ${match}: removes the label and chooses the best remaining class`, () => {
      const n = rule('never', match, pattern, 'class', 'card_arrival');
      const r = apply('classify', [n], 'where is my card?', CLASS_PRED);
      assert.deepEqual(r.labels, [{ label: 'lost_card', score: 0.2 }]);
      assert.deepEqual(r.overrides, [{ id: n.id, action: 'never', label: 'card_arrival', target: 'class' }]);
      const miss = apply('classify', [n], 'where is my parcel', CLASS_PRED);
      assert.deepEqual(labelsOf(miss), ['card_arrival']);
      assert.deepEqual(miss.overrides, []);
    });
  }

  it('never-rules chain down the scores; with no class left the answer is empty', () => {
    const n1 = rule('never', 'phrase', 'card', 'class', 'card_arrival');
    const n2 = rule('never', 'phrase', 'card', 'class', 'lost_card');
    const r = apply('classify', [n1, n2], 'my card', CLASS_PRED);
    assert.deepEqual(labelsOf(r), ['refund']);
    assert.deepEqual(
      r.overrides.map((o) => o.id),
      [n1.id, n2.id],
    );
    const only = apply('classify', [n1], 'my card', { labels: ['card_arrival'] });
    assert.deepEqual(only.labels, []);
  });

  it('a never-rule for a label not chosen changes nothing', () => {
    const n = rule('never', 'phrase', 'card', 'class', 'refund');
    const r = apply('classify', [n], 'my card', CLASS_PRED);
    assert.deepEqual(labelsOf(r), ['card_arrival']);
    assert.deepEqual(r.overrides, []);
  });

  it('never applies first, then always (always wins)', () => {
    const n = rule('never', 'phrase', 'card', 'class', 'card_arrival');
    const a = rule('always', 'phrase', 'card', 'class', 'card_arrival');
    const r = apply('classify', [a, n], 'my card', CLASS_PRED);
    assert.deepEqual(r.labels, [{ label: 'card_arrival', score: 1, override: a.id }]);
    assert.deepEqual(
      r.overrides.map((o) => o.action),
      ['never', 'always'],
    );
  });

  it('entity rules do not apply to a classifier', () => {
    const e = rule('always', 'phrase', 'card', 'entity', 'refund');
    assert.deepEqual(apply('classify', [e], 'my card', CLASS_PRED).overrides, []);
  });
});

describe('applyOverrides — class scores', () => {
  it('keeps the best maxScores class scores, copied, and still finds the score of a label beyond them', () => {
    const scores = ['a', 'b', 'c', 'd'].map((label, i) => ({ label, score: 0.4 - i * 0.1 }));
    const prediction: Prediction = { labels: ['a'], scores };
    const never = compileOverrides(
      ['a', 'b', 'c'].map((label) => rule('never', 'phrase', 'x', 'class', label)),
    );
    const served = applyOverrides(never, 'classify', 'x', prediction, 2);
    assert.deepEqual(served.scores, scores.slice(0, 2));
    assert.notEqual(served.scores![0], scores[0], 'copies, not the model’s objects');
    assert.deepEqual(
      served.labels,
      [{ label: 'd', score: scores[3]!.score }],
      'the fallback class comes from all scores',
    );
    assert.equal(
      applyOverrides(compileOverrides([]), 'classify', 'x', prediction).scores!.length,
      4,
      'all by default',
    );
  });
});

describe('applyOverrides — class rules (multilabel)', () => {
  const pred: Prediction = {
    labels: ['shoes', 'sale'],
    scores: [
      { label: 'shoes', score: 0.9 },
      { label: 'sale', score: 0.6 },
      { label: 'kids', score: 0.1 },
    ],
  };

  for (const [match, pattern] of [
    ['exact', 'red shoes on sale'],
    ['phrase', 'ON SALE'],
    ['regex', 's[a]le'],
  ] as [OverrideMatch, string][]) {
    it(`always + ${match} adds the label; never + ${match} removes it`, () => {
      const a = rule('always', match, pattern, 'class', 'kids');
      const added = apply('multilabel', [a], 'red shoes on sale', pred);
      assert.deepEqual(added.labels, [
        { label: 'shoes', score: 0.9 },
        { label: 'sale', score: 0.6 },
        { label: 'kids', score: 1, override: a.id },
      ]);
      assert.equal(added.overrides.length, 1);
      const n = rule('never', match, pattern, 'class', 'sale');
      const removed = apply('multilabel', [n], 'red shoes on sale', pred);
      assert.deepEqual(labelsOf(removed), ['shoes']);
      assert.deepEqual(removed.overrides, [{ id: n.id, action: 'never', label: 'sale', target: 'class' }]);
      const miss = apply('multilabel', [a, n], 'blue boots', pred);
      assert.deepEqual(labelsOf(miss), ['shoes', 'sale']);
      assert.deepEqual(miss.overrides, []);
    });
  }

  it('always on a label already there changes nothing', () => {
    const a = rule('always', 'phrase', 'shoes', 'class', 'shoes');
    const r = apply('multilabel', [a], 'red shoes', pred);
    assert.deepEqual(r.labels?.[0], { label: 'shoes', score: 0.9 });
    assert.deepEqual(r.overrides, []);
  });
});

describe('applyOverrides — entity rules (ner)', () => {
  const text = 'Apple pie and Nike shoes from Apple';
  const pred = spansFor(text, [
    ['Apple', 'BRAND'],
    ['Nike', 'BRAND'],
    ['Apple', 'BRAND'],
  ]);

  it('with no rules serves the spans with their text', () => {
    const r = apply('ner', [], text, pred);
    assert.deepEqual(r, {
      entities: [
        { start: 0, end: 5, text: 'Apple', label: 'BRAND', score: 0.8 },
        { start: 14, end: 18, text: 'Nike', label: 'BRAND', score: 0.8 },
        { start: 30, end: 35, text: 'Apple', label: 'BRAND', score: 0.8 },
      ],
      overrides: [],
    });
  });

  it('always + exact: the whole text (without outer spaces) becomes the entity', () => {
    const a = rule('always', 'exact', 'Nike Air', 'entity', 'PRODUCT');
    const r = apply('ner', [a], ' Nike Air ', spansFor(' Nike Air ', [['Nike', 'BRAND']]));
    assert.deepEqual(r.entities, [
      { start: 1, end: 9, text: 'Nike Air', label: 'PRODUCT', score: 1, override: a.id },
    ]);
    assert.deepEqual(r.overrides, [{ id: a.id, action: 'always', label: 'PRODUCT', target: 'entity' }]);
    assert.deepEqual(apply('ner', [a], 'nike air', { spans: [] }).entities, []);
  });

  it('always + phrase: every whole-word occurrence, any case, replacing overlapping predictions', () => {
    const a = rule('always', 'phrase', 'apple pie', 'entity', 'FOOD');
    const r = apply('ner', [a], text, pred);
    assert.deepEqual(entitiesOf(r), ['FOOD:Apple pie@0', 'BRAND:Nike@14', 'BRAND:Apple@30']);
    assert.equal(r.entities?.[0]?.override, a.id);
    assert.equal(r.entities?.[0]?.score, 1);
    assert.deepEqual(entitiesOf(apply('ner', [a], 'apple pies', { spans: [] })), []);
  });

  it('always + regex: every non-empty match', () => {
    const a = rule('always', 'regex', 'sho+es|x*', 'entity', 'PRODUCT', { flags: 'i' });
    const r = apply('ner', [a], 'SHOES and shoooes', { spans: [] });
    assert.deepEqual(entitiesOf(r), ['PRODUCT:SHOES@0', 'PRODUCT:shoooes@10']);
    assert.deepEqual(
      entitiesOf(apply('ner', [a], 'SHOES and shoooes', { spans: [] })),
      entitiesOf(r),
      'no state',
    );
  });

  it('always on an entity the model already found changes nothing', () => {
    const a = rule('always', 'phrase', 'nike', 'entity', 'BRAND');
    const r = apply('ner', [a], text, pred);
    assert.deepEqual(r.entities, apply('ner', [], text, pred).entities);
    assert.deepEqual(r.overrides, []);
  });

  it('between always-rules the oldest wins an overlap', () => {
    const a = rule('always', 'phrase', 'nike shoes', 'entity', 'PRODUCT');
    const b = rule('always', 'phrase', 'shoes from', 'entity', 'OTHER');
    const r = apply('ner', [a, b], text, pred);
    assert.deepEqual(entitiesOf(r), ['BRAND:Apple@0', 'PRODUCT:Nike shoes@14', 'BRAND:Apple@30']);
    assert.deepEqual(
      r.overrides.map((o) => o.id),
      [a.id],
    );
  });

  it('never + exact: removes entities of the label whose text equals the pattern (case-sensitive)', () => {
    const n = rule('never', 'exact', 'Apple', 'entity', 'BRAND');
    const r = apply('ner', [n], text, pred);
    assert.deepEqual(entitiesOf(r), ['BRAND:Nike@14']);
    assert.deepEqual(r.overrides, [{ id: n.id, action: 'never', label: 'BRAND', target: 'entity' }]);
    assert.equal(
      apply('ner', [rule('never', 'exact', 'apple', 'entity', 'BRAND')], text, pred).entities?.length,
      3,
    );
  });

  it('never + phrase: entity text equal to the phrase (any case) or containing it as whole words', () => {
    const n = rule('never', 'phrase', 'APPLE', 'entity', 'BRAND');
    assert.deepEqual(entitiesOf(apply('ner', [n], text, pred)), ['BRAND:Nike@14']);
    const t = "Applebee's menu";
    const p = spansFor(t, [["Applebee's", 'BRAND']]);
    assert.equal(apply('ner', [n], t, p).entities?.length, 1, 'not a whole-word occurrence');
    const t2 = 'Apple Store opens';
    const p2 = spansFor(t2, [['Apple Store', 'BRAND']]);
    assert.equal(apply('ner', [n], t2, p2).entities?.length, 0, 'contains the phrase as whole words');
  });

  it('never + regex: the regex matches the entity text', () => {
    const n = rule('never', 'regex', '^ni', 'entity', 'BRAND', { flags: 'i' });
    const r = apply('ner', [n], text, pred);
    assert.deepEqual(entitiesOf(r), ['BRAND:Apple@0', 'BRAND:Apple@30']);
  });

  it('never only touches its own label; class rules do not apply to ner', () => {
    const n = rule('never', 'phrase', 'apple', 'entity', 'FOOD');
    const c = rule('always', 'phrase', 'apple', 'class', 'FOOD');
    const r = apply('ner', [n, c], text, pred);
    assert.equal(r.entities?.length, 3);
    assert.deepEqual(r.overrides, []);
  });

  it('never first, then always: a removed entity can be set again by an always-rule', () => {
    const n = rule('never', 'phrase', 'nike', 'entity', 'BRAND');
    const a = rule('always', 'phrase', 'nike', 'entity', 'BRAND');
    const r = apply('ner', [a, n], text, pred);
    assert.deepEqual(entitiesOf(r), ['BRAND:Apple@0', 'BRAND:Nike@14', 'BRAND:Apple@30']);
    assert.equal(r.entities?.[1]?.override, a.id);
    assert.deepEqual(
      r.overrides.map((o) => o.action),
      ['never', 'always'],
    );
  });

  it('maps phrase ranges back when lowercasing changes the length', () => {
    const t = 'İstanbul Nike store';
    const a = rule('always', 'phrase', 'nike', 'entity', 'BRAND');
    const r = apply('ner', [a], t, { spans: [] });
    assert.deepEqual(entitiesOf(r), ['BRAND:Nike@9']);
    const b = rule('always', 'phrase', 'i̇stanbul', 'entity', 'CITY');
    assert.deepEqual(entitiesOf(apply('ner', [b], t, { spans: [] })), ['CITY:İstanbul@0']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const WORDS = ['nike', 'Nike', 'APPLE', 'pie', 'red', 'shoes', 'x', 'İzmir', 'card'];
const LABELS = ['A', 'B', 'C'];

const wordsArb = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 8 });
const sepArb = fc.constantFrom(' ', ', ', '  ');

/** A text made of words, with the offsets of each word. */
function build(words: string[], sep: string): { text: string; offsets: [number, number][] } {
  const offsets: [number, number][] = [];
  let text = '';
  for (const [i, w] of words.entries()) {
    if (i > 0) text += sep;
    offsets.push([text.length, text.length + w.length]);
    text += w;
  }
  return { text, offsets };
}

const nerCase = fc
  .record({
    words: wordsArb,
    sep: sepArb,
    picks: fc.array(fc.record({ label: fc.constantFrom(...LABELS), take: fc.boolean(), len: fc.nat(2) }), {
      maxLength: 8,
    }),
  })
  .map(({ words, sep, picks }) => {
    const { text, offsets } = build(words, sep);
    const spans: NonNullable<Prediction['spans']> = [];
    let i = 0;
    for (const p of picks) {
      if (i >= offsets.length) break;
      const last = Math.min(offsets.length - 1, i + p.len);
      if (p.take) spans.push({ start: offsets[i]![0], end: offsets[last]![1], label: p.label, score: 0.5 });
      i = last + 1;
    }
    return { text, spans, words };
  });

const matchArb = fc.constantFrom<OverrideMatch>('exact', 'phrase', 'regex');

function patternFor(match: OverrideMatch, word: string, text: string): string {
  if (match === 'exact') return text;
  if (match === 'phrase') return word.toLowerCase();
  return word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const classCase = fc
  .record({
    words: wordsArb,
    sep: sepArb,
    scores: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
    chosen: fc.subarray(LABELS),
  })
  .map(({ words, sep, scores, chosen }) => {
    const text = build(words, sep).text;
    const ranked = LABELS.map((label, i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score);
    return { text, words, ranked, chosen };
  });

function servedWithout(task: TaskKind, text: string, prediction: Prediction): ServedResult {
  return applyOverrides(compileOverrides([]), task, text, prediction);
}

function stripMarks(r: ServedResult): unknown {
  return {
    labels: r.labels?.map((l) => ({ label: l.label, score: l.score })),
    entities: r.entities?.map(({ override: _o, ...e }) => e),
  };
}

describe('applyOverrides — properties', () => {
  it('an empty rule set serves the prediction unchanged', () => {
    fc.assert(
      fc.property(nerCase, ({ text, spans }) => {
        const r = servedWithout('ner', text, { spans });
        assert.deepEqual(r.overrides, []);
        assert.deepEqual(
          r.entities,
          spans.map((s) => ({ ...s, text: text.slice(s.start, s.end) })).sort((a, b) => a.start - b.start),
        );
      }),
    );
    fc.assert(
      fc.property(classCase, ({ text, ranked, chosen }) => {
        const top = ranked[0]!;
        const single = servedWithout('classify', text, { labels: [top.label], scores: ranked });
        assert.deepEqual(single, { labels: [top], scores: ranked, overrides: [] });
        const multi = servedWithout('multilabel', text, { labels: chosen, scores: ranked });
        assert.deepEqual(
          multi.labels?.map((l) => l.label),
          chosen,
        );
        assert.deepEqual(multi.overrides, []);
      }),
    );
  });

  it('never-rules never leave their label for matching texts', () => {
    fc.assert(
      fc.property(classCase, matchArb, fc.nat(), fc.constantFrom(...LABELS), (c, match, w, label) => {
        const word = c.words[w % c.words.length]!;
        const n = rule('never', match, patternFor(match, word, c.text), 'class', label);
        const single = apply('classify', [n], c.text, { labels: [c.ranked[0]!.label], scores: c.ranked });
        assert.ok(!labelsOf(single).includes(label), 'classify keeps a never label');
        const multi = apply('multilabel', [n], c.text, { labels: c.chosen, scores: c.ranked });
        assert.ok(!labelsOf(multi).includes(label), 'multilabel keeps a never label');
      }),
    );
    fc.assert(
      fc.property(nerCase, fc.constantFrom<OverrideMatch>('phrase', 'regex'), fc.nat(), (c, match, w) => {
        const word = c.words[w % c.words.length]!;
        const n = rule('never', match, patternFor(match, word, c.text), 'entity', 'A');
        const r = apply('ner', [n], c.text, { spans: c.spans });
        for (const e of r.entities ?? []) {
          if (e.label !== 'A') continue;
          const matched =
            match === 'phrase'
              ? new RegExp(
                  `(^|[^\\p{L}\\p{N}_])${patternFor('regex', word.toLowerCase(), '')}($|[^\\p{L}\\p{N}_])`,
                  'u',
                ).test(e.text.toLowerCase())
              : e.text.includes(word);
          assert.ok(!matched, `entity ${e.text} of a never label survived`);
        }
      }),
    );
  });

  it('always-rules always produce their label', () => {
    fc.assert(
      fc.property(
        classCase,
        matchArb,
        fc.nat(),
        fc.constantFrom(...LABELS),
        fc.boolean(),
        (c, match, w, label, withNever) => {
          const word = c.words[w % c.words.length]!;
          const pattern = patternFor(match, word, c.text);
          const rules = [rule('always', match, pattern, 'class', label)];
          if (withNever) rules.unshift(rule('never', match, pattern, 'class', label));
          const single = apply('classify', rules, c.text, { labels: [c.ranked[0]!.label], scores: c.ranked });
          assert.deepEqual(labelsOf(single), [label]);
          const multi = apply('multilabel', rules, c.text, { labels: c.chosen, scores: c.ranked });
          assert.ok(labelsOf(multi).includes(label), 'multilabel lacks an always label');
        },
      ),
    );
    fc.assert(
      fc.property(nerCase, matchArb, fc.nat(), (c, match, w) => {
        const word = c.words[w % c.words.length]!;
        const a = rule('always', match, patternFor(match, word, c.text), 'entity', 'Z');
        const r = apply('ner', [a], c.text, { spans: c.spans });
        const z = (r.entities ?? []).filter((e) => e.label === 'Z');
        if (match === 'exact')
          assert.deepEqual(
            z.map((e) => e.text),
            [c.text],
          );
        else assert.ok(z.length >= 1, 'no entity made by an always-rule');
        for (const e of z)
          assert.equal(e.text.toLowerCase(), match === 'exact' ? c.text.toLowerCase() : word.toLowerCase());
      }),
    );
  });

  it('entities never overlap after always-rules', () => {
    fc.assert(
      fc.property(
        nerCase,
        fc.array(
          fc.record({ match: matchArb, w: fc.nat(), len: fc.nat(2), label: fc.constantFrom(...LABELS) }),
          {
            maxLength: 5,
          },
        ),
        (c, specs) => {
          const rules = specs.map((s) => {
            const words = c.words.slice(s.w % c.words.length, (s.w % c.words.length) + s.len + 1);
            const phrase = words.join(' ');
            return rule('always', s.match, patternFor(s.match, phrase, c.text), 'entity', s.label);
          });
          const r = apply('ner', rules, c.text, { spans: c.spans });
          const es = r.entities ?? [];
          for (let i = 1; i < es.length; i++)
            assert.ok(es[i - 1]!.end <= es[i]!.start, `entities overlap: ${JSON.stringify(es)}`);
          for (const e of es) assert.equal(e.text, c.text.slice(e.start, e.end));
        },
      ),
    );
  });

  it('`overrides` lists exactly the rules that changed the answer', () => {
    const anyRule = fc.record({
      action: fc.constantFrom<OverrideAction>('always', 'never'),
      match: matchArb,
      w: fc.nat(),
      label: fc.constantFrom(...LABELS),
      miss: fc.boolean(),
    });
    // One rule: listed exactly when the answer differs from the model's.
    fc.assert(
      fc.property(classCase, nerCase, anyRule, (c, n, spec) => {
        for (const [task, text, words, prediction, target] of [
          ['classify', c.text, c.words, { labels: [c.ranked[0]!.label], scores: c.ranked }, 'class'],
          ['multilabel', c.text, c.words, { labels: c.chosen, scores: c.ranked }, 'class'],
          ['ner', n.text, n.words, { spans: n.spans }, 'entity'],
        ] as [TaskKind, string, string[], Prediction, OverrideTarget][]) {
          const word = spec.miss ? 'zebra' : words[spec.w % words.length]!;
          const r = rule(
            spec.action,
            spec.match,
            patternFor(spec.match, word, spec.miss ? 'zebra' : text),
            target,
            spec.label,
          );
          const served = apply(task, [r], text, prediction);
          const plain = servedWithout(task, text, prediction);
          const changed = JSON.stringify(stripMarks(served)) !== JSON.stringify(stripMarks(plain));
          assert.equal(served.overrides.length > 0, changed, `${task}: listed ≠ changed`);
          if (changed) assert.equal(served.overrides[0]!.id, r.id);
        }
      }),
    );
    // Many always-rules: a rule is listed exactly when it marked something in the answer.
    fc.assert(
      fc.property(nerCase, fc.array(anyRule, { maxLength: 6 }), (n, specs) => {
        const rules = specs.map((s) => {
          const word = n.words[s.w % n.words.length]!;
          return rule('always', s.match, patternFor(s.match, word, n.text), 'entity', s.label);
        });
        const served = apply('ner', rules, n.text, { spans: n.spans });
        const marked = new Set((served.entities ?? []).map((e) => e.override).filter(Boolean));
        assert.deepEqual(new Set(served.overrides.map((o) => o.id)), marked);
      }),
    );
  });
});
