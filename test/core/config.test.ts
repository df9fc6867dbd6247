import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  applyOverrides,
  closestMatch,
  editDistance,
  formatOverride,
  getPath,
  loadConfigFile,
  parseOverride,
  parseYamlWithLines,
  toYaml,
  validateConfig,
} from '../../src/core/config.ts';
import { ConfigError } from '../../src/core/errors.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'config');

const trainSchema = z.strictObject({
  model: z.string(),
  lr: z.number().min(0).max(1).default(0.01),
  epochs: z.int().min(1).default(10),
  labels: z.array(z.string()).default([]),
  optimizer: z
    .strictObject({ name: z.enum(['sgd', 'adam']).default('adam'), momentum: z.number().default(0.9) })
    .prefault({}),
});

/** Runs `fn`, asserts it throws a ConfigError, and returns it. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('parseYamlWithLines', () => {
  const source = [
    'name: demo', // 1
    'metrics:', // 2
    '  primary: f1', // 3
    '  secondary: [a, b]', // 4
    'slices:', // 5
    '  - name: short', // 6
    '    where: { tokens: { max: 6 } }', // 7
    '  - name: long', // 8
    '    where:', // 9
    '      chars:', // 10
    '        min: 40', // 11
  ].join('\n');

  test('returns the plain value', () => {
    const { value } = parseYamlWithLines(source, 'x.yaml');
    assert.deepEqual((value as { metrics: unknown }).metrics, { primary: 'f1', secondary: ['a', 'b'] });
  });

  test('maps field paths to their lines (key lines for mapping entries)', () => {
    const { lineOf } = parseYamlWithLines(source, 'x.yaml');
    assert.equal(lineOf([]), 1);
    assert.equal(lineOf(['name']), 1);
    assert.equal(lineOf(['metrics']), 2);
    assert.equal(lineOf(['metrics', 'primary']), 3);
    assert.equal(lineOf(['metrics', 'secondary', 1]), 4);
    assert.equal(lineOf(['slices', 1]), 8);
    assert.equal(lineOf(['slices', 0, 'where', 'tokens', 'max']), 7);
    assert.equal(lineOf(['slices', 1, 'where', 'chars', 'min']), 11);
    assert.equal(lineOf(['slices', '1', 'name']), 8);
  });

  test('gives undefined for paths that are not in the document', () => {
    const { lineOf } = parseYamlWithLines(source, 'x.yaml');
    assert.equal(lineOf(['nope']), undefined);
    assert.equal(lineOf(['slices', 5]), undefined);
    assert.equal(lineOf(['name', 'deeper']), undefined);
  });

  test('a syntax error is a ConfigError with file:line:col and the parser message', () => {
    const err = configErrorOf(() => loadConfigFile(join(FIXTURES, 'syntax-error.yaml.txt'), trainSchema));
    assert.match(err.message, /syntax-error\.yaml\.txt:\d+:\d+: YAML syntax error: /);
    assert.match(err.message, /Flow sequence|\]/);
    assert.equal(typeof err.details.line, 'number');
    assert.equal(typeof err.details.column, 'number');
    assert.ok(err.hint);
  });

  test('duplicate keys are syntax errors on their line', () => {
    const err = configErrorOf(() => parseYamlWithLines('a: 1\nb: 2\na: 3\n', 'dup.yaml'));
    assert.match(err.message, /^dup\.yaml:3:1: YAML syntax error: .*unique/);
  });
});

describe('validateConfig', () => {
  const load = (text: string) => {
    const parsed = parseYamlWithLines(text, 'train.yaml');
    return () => validateConfig(trainSchema, parsed.value, { file: 'train.yaml', lineOf: parsed.lineOf });
  };

  test('fills defaults into a valid config', () => {
    const cfg = load('model: linear.v1\n')();
    assert.deepEqual(cfg, {
      model: 'linear.v1',
      lr: 0.01,
      epochs: 10,
      labels: [],
      optimizer: { name: 'adam', momentum: 0.9 },
    });
  });

  test('a wrong value names file:line and the field path', () => {
    const err = configErrorOf(load('model: linear.v1\nepochs: 3\noptimizer:\n  name: adamw\n'));
    assert.match(err.message, /^train\.yaml:4: field optimizer\.name: expected one of sgd, adam; got/);
    assert.match(err.message, /did you mean "adam"\?/);
    assert.equal(err.details.file, 'train.yaml');
    assert.equal(err.details.line, 4);
    assert.equal(err.details.path, 'optimizer.name');
    assert.equal(err.code, 'CONFIG_INVALID');
  });

  test('unknown keys are rejected with a did-you-mean suggestion', () => {
    const err = configErrorOf(load('model: m\noptimizer:\n  momentun: 0.5\n'));
    assert.match(
      err.message,
      /train\.yaml:3: field optimizer\.momentun: unknown key "momentun" \(did you mean "momentum"\?\)/,
    );
  });

  test('unknown keys far from any known key list the allowed keys', () => {
    const err = configErrorOf(load('model: m\nbatch_size: 3\n'));
    assert.match(
      err.message,
      /field batch_size: unknown key "batch_size"; allowed keys here: model, lr, epochs/,
    );
  });

  test('out-of-range values name the allowed range', () => {
    assert.match(
      configErrorOf(load('model: m\nlr: 1.5\n')).message,
      /train\.yaml:2: field lr: must be between 0 and 1, got 1\.5/,
    );
    assert.match(configErrorOf(load('model: m\nepochs: 0\n')).message, /field epochs: must be ≥ 1, got 0/);
  });

  test('every problem is listed, in line order, with structured problems in details', () => {
    const err = configErrorOf(load('lr: abc\nepochs: 2.5\nlabels: [A, 3]\nextra: 1\n'));
    const lines = err.message.split('\n');
    assert.match(lines[0]!, /^5 problems in train\.yaml:/);
    assert.match(lines[1]!, /train\.yaml:1: field (model|lr)/);
    assert.ok(err.message.includes('train.yaml:1: field model: is required'));
    assert.ok(err.message.includes('train.yaml:1: field lr: expected a number, got the string "abc"'));
    assert.ok(err.message.includes('train.yaml:2: field epochs: expected an integer'));
    assert.ok(err.message.includes('train.yaml:3: field labels.1: expected a string, got the number 3'));
    assert.ok(err.message.includes('train.yaml:4: field extra: unknown key "extra"'));
    assert.equal(err.details.problems?.length, 5);
    assert.ok(err.hint?.includes('train.yaml'));
  });

  test('without a file, problems still name the field path', () => {
    const err = configErrorOf(() => validateConfig(trainSchema, { model: 1 }, {}));
    assert.equal(err.message, 'field model: expected a string, got the number 1');
  });

  test('fields set by an override say so instead of giving a line', () => {
    const parsed = parseYamlWithLines('model: m\nlr: 0.1\n', 'train.yaml');
    const overrides = ['lr=2'];
    const value = applyOverrides(parsed.value as Record<string, unknown>, overrides);
    const err = configErrorOf(() =>
      validateConfig(trainSchema, value, { file: 'train.yaml', lineOf: parsed.lineOf, overrides }),
    );
    assert.equal(err.message, 'train.yaml: field lr: must be between 0 and 1, got 2 (from override `lr=2`)');
  });
});

describe('parseOverride / applyOverrides', () => {
  test('values are read as YAML scalars and flow collections', () => {
    const out = applyOverrides({ lr: 0.01, name: 'x' }, [
      'lr=0.1',
      'labels=[A,B]',
      'name=foo',
      'a.b.c=true',
      'opts={k: 1}',
      'quoted="007"',
      'empty=',
    ]);
    assert.deepEqual(out, {
      lr: 0.1,
      name: 'foo',
      labels: ['A', 'B'],
      a: { b: { c: true } },
      opts: { k: 1 },
      quoted: '007',
      empty: null,
    });
  });

  test('numeric segments index lists, and may append one past the end', () => {
    const base = { slices: [{ name: 'a', where: { label: 'X' } }] };
    const out = applyOverrides(base, ['slices.0.name=x', 'slices.1.name=y', 'grid.0=3']);
    assert.deepEqual(out, { slices: [{ name: 'x', where: { label: 'X' } }, { name: 'y' }], grid: [3] });
    assert.equal(base.slices[0]!.name, 'a', 'the input is not modified');
  });

  test('the value may contain "="', () => {
    assert.deepEqual(parseOverride('where.regex=a=b'), { path: ['where', 'regex'], value: 'a=b' });
  });

  for (const [override, pattern] of [
    ['lr', /no "="/],
    ['=3', /key "" must be/],
    ['a..b=1', /key "a\.\.b" must be/],
    ['a b=1', /must be dot-separated/],
    ['__proto__.x=1', /"__proto__" is not allowed/],
    ['labels=[A,B', /value is not valid YAML/],
  ] as const) {
    test(`malformed override ${JSON.stringify(override)} names itself and hints at the syntax`, () => {
      const err = configErrorOf(() => applyOverrides({}, [override]));
      assert.ok(err.message.includes(`"${override}"`), err.message);
      assert.match(err.message, pattern);
      assert.match(err.hint ?? '', /key\.path=value/);
    });
  }

  test('indices past the end and paths through scalars are refused', () => {
    const err1 = configErrorOf(() => applyOverrides({ xs: [1] }, ['xs.3=2']));
    assert.match(err1.message, /index 3 is past the end of xs \(length 1\)/);
    const err2 = configErrorOf(() => applyOverrides({ name: 'x' }, ['name.first=2']));
    assert.match(err2.message, /name is the string "x", not a mapping or list/);
    const err3 = configErrorOf(() => applyOverrides({ xs: [1] }, ['xs.a=2']));
    assert.match(err3.message, /xs is a list, so "a" must be an index/);
  });

  test('property: applying a formatted override then reading the path gives the value back', () => {
    const key = fc
      .stringMatching(/^[a-z_][a-z0-9_-]{0,6}$/)
      .filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
    const scalar = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('true', 'null', '1.5', '~', 'a: b', '[x]', '#c', ' padded ', "it's", 'line\nbreak'),
    );
    const value = fc.oneof(
      scalar,
      fc.array(scalar, { maxLength: 4 }),
      fc.dictionary(key, scalar, { maxKeys: 3, noNullPrototype: true }),
    );
    const base = fc.dictionary(
      key,
      fc.oneof(scalar, fc.dictionary(key, scalar, { maxKeys: 3, noNullPrototype: true })),
      { maxKeys: 4, noNullPrototype: true },
    );
    fc.assert(
      fc.property(base, fc.array(key, { minLength: 1, maxLength: 4 }), value, (obj, path, v) => {
        let out: Record<string, unknown>;
        try {
          out = applyOverrides(obj, [formatOverride(path, v)]);
        } catch (e) {
          // Only a path running through an existing scalar may fail.
          assert.ok(e instanceof ConfigError && /not a mapping or list/.test(e.message), String(e));
          return;
        }
        assert.deepEqual(getPath(out, path), v);
      }),
      { numRuns: 300 },
    );
  });
});

describe('loadConfigFile', () => {
  const file = join(FIXTURES, 'train.yaml');

  test('reads, overrides and fills a YAML file', () => {
    const cfg = loadConfigFile(file, trainSchema, { overrides: ['optimizer.name=sgd', 'labels=[A,B,C]'] });
    assert.deepEqual(cfg, {
      model: 'linear.v1',
      lr: 0.01,
      epochs: 5,
      labels: ['A', 'B', 'C'],
      optimizer: { name: 'sgd', momentum: 0.9 },
    });
  });

  test('a misspelt override key is reported as an unknown key from the override', () => {
    const err = configErrorOf(() => loadConfigFile(file, trainSchema, { overrides: ['optimiser.name=sgd'] }));
    assert.match(
      err.message,
      /train\.yaml: field optimiser: unknown key "optimiser" \(did you mean "optimizer"\?\) \(from override `optimiser\.name=sgd`\)/,
    );
  });

  test('a missing file is a NotFoundError', () => {
    assert.throws(() => loadConfigFile(join(FIXTURES, 'missing.yaml'), trainSchema), { code: 'NOT_FOUND' });
  });
});

describe('toYaml', () => {
  test('writes readable YAML that reads back to the same value, with comments above keys', () => {
    const value = {
      name: 'demo',
      labels: ['A', 'B'],
      nested: { list: [{ where: { tokens: { max: 6 } } }], empty: {}, none: null },
      text: 'a: b # not a comment',
    };
    const text = toYaml(value, {
      '': 'header line',
      labels: 'the label set\nsecond line',
      'nested.none': 'inner',
    });
    assert.deepEqual(parseYaml(text), value);
    assert.ok(text.startsWith('# header line\n'));
    assert.match(text, /\n# the label set\n# second line\nlabels: \[ A, B \]\n/);
    assert.match(text, /\n {2}# inner\n {2}none: null\n/);
    assert.match(text, /tokens: \{ max: 6 \}/);
  });
});

describe('did-you-mean helpers', () => {
  test('editDistance counts edits and adjacent swaps', () => {
    assert.equal(editDistance('task', 'task'), 0);
    assert.equal(editDistance('tsak', 'task'), 1);
    assert.equal(editDistance('lables', 'labels'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });

  test('closestMatch only suggests likely typos', () => {
    assert.equal(closestMatch('primery', ['primary', 'secondary']), 'primary');
    assert.equal(closestMatch('Labels', ['labels']), 'labels');
    assert.equal(closestMatch('zzz', ['labels', 'task']), undefined);
    assert.equal(closestMatch('C', ['A', 'B']), undefined);
  });
});
