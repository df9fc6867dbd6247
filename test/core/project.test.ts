import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, SapphireError } from '../../src/core/errors.ts';
import {
  findProjectDir,
  initProject,
  loadProject,
  PROJECT_FILE,
  type ProblemCard,
  problemCardSchema,
  sanitizeProjectName,
  validateProblemCard,
  writeProblemCard,
} from '../../src/core/project.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'config');
const root = mkdtempSync(join(tmpdir(), 'sapphire-project-'));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh folder holding `fixture` (from test/fixtures/config) or `text` as sapphire.yaml. */
function projectWith(content: { fixture?: string; text?: string }): string {
  const dir = join(root, `p${counter++}`);
  mkdirSync(dir, { recursive: true });
  if (content.fixture) copyFileSync(join(FIXTURES, content.fixture), join(dir, PROJECT_FILE));
  if (content.text !== undefined) writeFileSync(join(dir, PROJECT_FILE), content.text);
  return dir;
}

function errorOf(fn: () => unknown): SapphireError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SapphireError, `expected a SapphireError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('loadProject', () => {
  test('loads the example card and fills every default', () => {
    const dir = projectWith({ fixture: 'valid-card.yaml' });
    const { card, file } = loadProject(dir);
    assert.equal(file, join(dir, PROJECT_FILE));
    assert.equal(card.name, 'fashion-demo');
    assert.equal(card.task, 'ner');
    assert.deepEqual(card.labels, ['BRAND', 'COLOR']);
    assert.deepEqual(card.metrics, {
      primary: 'span_f1_micro',
      secondary: ['span_f1_macro'],
      online: ['usage', 'thumbs_up_rate'],
    });
    assert.deepEqual(card.acceptance, { span_f1_micro: 0.75 });
    assert.equal(card.slices.length, 5);
    assert.deepEqual(card.slices[3], { name: 'with-digits', where: { regex: '\\d' } });
    assert.deepEqual(card.data.sources, [
      { name: 'titles', path: 'data/titles.jsonl', format: 'jsonl', options: {}, split: null },
    ]);
    assert.deepEqual(card.data.split, { ratios: [0.8, 0.1, 0.1], seed: 7, stratify: true, groupBy: null });
    assert.equal(card.store, null);
  });

  test('a minimal card gets task-specific metric defaults', () => {
    const card = problemCardSchema.parse({ name: 'x', task: 'classify' });
    assert.equal(card.metrics.primary, 'macro_f1');
    assert.deepEqual(card.labels, []);
    assert.deepEqual(card.data.split.ratios, [0.8, 0.1, 0.1]);
  });

  test('a wrong task names sapphire.yaml:2 and the field', () => {
    const err = errorOf(() => loadProject(projectWith({ fixture: 'bad-task.yaml' })));
    assert.ok(err instanceof ConfigError);
    assert.ok(err.message.includes('sapphire.yaml:2'), err.message);
    assert.match(
      err.message,
      /field task: expected one of ner, classify, multilabel; got the string "nerr" \(did you mean "ner"\?\)/,
    );
    assert.equal(err.details.line, 2);
    assert.equal(err.details.path, 'task');
  });

  test('unknown keys are reported on their line with a suggestion', () => {
    const err = errorOf(() => loadProject(projectWith({ fixture: 'unknown-key.yaml' })));
    assert.match(
      err.message,
      /sapphire\.yaml:4: field metrics\.primery: unknown key "primery" \(did you mean "primary"\?\)/,
    );
    assert.match(
      err.message,
      /sapphire\.yaml:5: field labls: unknown key "labls" \(did you mean "labels"\?\)/,
    );
  });

  test('cross-field rules are all reported with their paths and lines', () => {
    const err = errorOf(() => loadProject(projectWith({ fixture: 'cross-field.yaml' })));
    const expected = [
      /sapphire\.yaml:5: field metrics\.primary: "span_f1_micro" is not a classify metric; use one of accuracy, macro_f1, micro_f1, weighted_f1/,
      /sapphire\.yaml:6: field metrics\.secondary\.1: "f1_macro" is not a classify metric/,
      /sapphire\.yaml:9: field acceptance\.span_precision: "span_precision" is not a classify metric/,
      /sapphire\.yaml:13: field slices\.1\.name: duplicate slice name "short" \(already used by slices\.0\)/,
      /sapphire\.yaml:16: field slices\.1\.where\.any\.0\.label: label "shoe" is not in labels \(shoes, shirts\) \(did you mean "shoes"\?\)/,
      /sapphire\.yaml:17: field slices\.1\.where\.any\.1\.regex: invalid regular expression \/\[a-\/: /,
      /sapphire\.yaml:20: field data\.split\.ratios: split ratios must sum to 1, but \[0\.7, 0\.2, 0\.2\] sums to 1\.1/,
    ];
    for (const re of expected) assert.match(err.message, re);
    assert.match(err.message, /^7 problems in /);
    assert.equal(err.details.problems?.length, 7);
  });

  test('acceptance thresholds must lie in [0, 1]', () => {
    const dir = projectWith({ text: 'name: a\ntask: ner\nacceptance:\n  span_f1_micro: 75\n' });
    assert.match(
      errorOf(() => loadProject(dir)).message,
      /sapphire\.yaml:4: field acceptance\.span_f1_micro: must be between 0 and 1, got 75/,
    );
  });

  test('duplicate labels, bad names and bad split settings are caught', () => {
    const dir = projectWith({
      text: 'name: My Project\ntask: ner\nlabels: [A, B, A]\ndata:\n  split: { ratios: [1, 0], seed: -2 }\n',
    });
    const msg = errorOf(() => loadProject(dir)).message;
    assert.match(msg, /sapphire\.yaml:1: field name: project names use lowercase letters/);
    assert.match(msg, /sapphire\.yaml:3: field labels\.2: duplicate label "A" \(already at labels\.0\)/);
    assert.match(msg, /sapphire\.yaml:5: field data\.split\.ratios\.1: split ratios must be > 0/);
    assert.match(msg, /sapphire\.yaml:5: field data\.split\.seed: must be ≥ 0, got -2/);
  });

  test('overrides are applied before validation', () => {
    const dir = projectWith({ fixture: 'valid-card.yaml' });
    const { card } = loadProject(dir, ['metrics.primary=span_f1_macro', 'slices.0.where.tokens.max=4']);
    assert.equal(card.metrics.primary, 'span_f1_macro');
    assert.deepEqual(card.slices[0]!.where, { tokens: { max: 4 } });
    // With other labels, the slices on BRAND become inconsistent; they are reported at their lines.
    assert.throws(
      () => loadProject(dir, ['labels=[A,B]']),
      (e: Error) =>
        /sapphire\.yaml:16: field slices\.1\.where\.label: label "BRAND" is not in labels \(A, B\)/.test(
          e.message,
        ),
    );
  });

  test('a bad override value is reported as coming from the override', () => {
    const dir = projectWith({ fixture: 'valid-card.yaml' });
    const err = errorOf(() => loadProject(dir, ['task=ocr']));
    assert.match(
      err.message,
      /sapphire\.yaml: field task: expected one of ner, classify, multilabel; got the string "ocr" \(from override `task=ocr`\)/,
    );
    const bad = errorOf(() => loadProject(dir, ['metrics.primary']));
    assert.match(bad.message, /malformed override "metrics\.primary"/);
  });

  test('a missing card is a NotFoundError hinting at sapphire init', () => {
    const err = errorOf(() => loadProject(projectWith({})));
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.hint ?? '', /sapphire init/);
  });

  test('an empty card and a YAML syntax error are ConfigErrors', () => {
    assert.match(errorOf(() => loadProject(projectWith({ text: '# nothing\n' }))).message, /is empty/);
    const err = errorOf(() => loadProject(projectWith({ fixture: 'syntax-error.yaml.txt' })));
    assert.match(err.message, /sapphire\.yaml:\d+:\d+: YAML syntax error/);
  });
});

describe('findProjectDir', () => {
  test('walks up from a nested folder to the one holding sapphire.yaml', () => {
    const dir = projectWith({ fixture: 'valid-card.yaml' });
    const nested = join(dir, 'a', 'b');
    mkdirSync(nested, { recursive: true });
    assert.equal(findProjectDir(nested), dir);
    assert.equal(findProjectDir(dir), dir);
  });

  test('throws NotFoundError with a `sapphire init` hint when there is none', () => {
    const err = errorOf(() => findProjectDir(mkdtempSync(join(tmpdir(), 'sapphire-none-'))));
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.hint ?? '', /sapphire init/);
  });
});

describe('initProject / writeProblemCard', () => {
  test('init then load gives the same filled card', () => {
    for (const task of ['ner', 'classify', 'multilabel'] as const) {
      const dir = join(root, `init-${task}`);
      const { card, file } = initProject(dir, { task, labels: ['A', 'B'] });
      assert.equal(file, join(dir, PROJECT_FILE));
      assert.deepEqual(loadProject(dir).card, card);
      assert.equal(card.task, task);
      assert.deepEqual(card.labels, ['A', 'B']);
    }
  });

  test('init picks per-task metrics and names the project after its folder', () => {
    const { card } = initProject(join(root, 'My Shop Títles!'), { task: 'classify' });
    assert.equal(card.name, 'my-shop-titles');
    assert.equal(card.metrics.primary, 'macro_f1');
    assert.deepEqual(card.labels, []);
    assert.equal(
      initProject(join(root, 'ner-x'), { task: 'ner', name: 'given' }).card.metrics.primary,
      'span_f1_micro',
    );
  });

  test('init refuses to overwrite, unless forced', () => {
    const dir = join(root, 'twice');
    initProject(dir, { task: 'ner' });
    const err = errorOf(() => initProject(dir, { task: 'classify' }));
    assert.equal(err.code, 'CONFLICT');
    assert.match(err.hint ?? '', /edit sapphire\.yaml.*--force/);
    assert.equal(loadProject(dir).card.task, 'ner');
    initProject(dir, { task: 'classify', force: true });
    assert.equal(loadProject(dir).card.task, 'classify');
  });

  test('init rejects an invalid explicit name', () => {
    const err = errorOf(() => initProject(join(root, 'bad-name'), { task: 'ner', name: 'Bad Name' }));
    assert.match(err.message, /field name: project names use lowercase letters/);
  });

  test('the written card has section comments and round-trips the full example', () => {
    const { card } = loadProject(projectWith({ fixture: 'valid-card.yaml' }));
    const dir = join(root, 'written');
    writeProblemCard(dir, card);
    const text = readFileSync(join(dir, PROJECT_FILE), 'utf8');
    for (const section of ['labels', 'metrics', 'acceptance', 'slices', 'data', 'store']) {
      assert.match(text, new RegExp(`# [^\\n]+\\n${section}:`), `comment above ${section}`);
    }
    assert.deepEqual(loadProject(dir).card, card);
    assert.deepEqual(readdirSync(dir), [PROJECT_FILE], 'no temporary file is left behind');
  });

  test('writeProblemCard refuses to overwrite unless forced, and validates the card', () => {
    const dir = join(root, 'overwrite');
    const { card } = initProject(dir, { task: 'ner' });
    const changed: ProblemCard = { ...card, description: 'changed' };
    assert.equal(errorOf(() => writeProblemCard(dir, changed)).code, 'CONFLICT');
    writeProblemCard(dir, changed, { force: true });
    assert.equal(loadProject(dir).card.description, 'changed');
    const invalid = { ...card, task: 'nerd' } as unknown as ProblemCard;
    assert.ok(errorOf(() => writeProblemCard(dir, invalid, { force: true })) instanceof ConfigError);
    assert.deepEqual(readdirSync(dir), [PROJECT_FILE]);
  });

  test('validateProblemCard reports object problems by field path', () => {
    const err = errorOf(() =>
      validateProblemCard({ name: 'a', task: 'ner', slices: [{ name: 's', where: {} }] }),
    );
    assert.match(
      err.message,
      /^field slices\.0\.where: an empty condition; give at least one of tokens, chars/,
    );
  });

  test('sanitizeProjectName makes valid names', () => {
    assert.equal(sanitizeProjectName('Fashion Demo'), 'fashion-demo');
    assert.equal(sanitizeProjectName('__x__'), 'x');
    assert.equal(sanitizeProjectName('***'), 'project');
  });
});
