/**
 * Earmarks: "can't be wrong" examples kept in `earmarks.jsonl`, each a text with what a model must (or must not)
 * predict for it. `sapphire test` runs them and fails on any miss, printing the difference.
 *
 * One JSON object per line (blank lines and lines starting with `#` are skipped):
 *
 * ```json
 * {"id": "nike-brand", "text": "Nike Air Max 90 white",
 *  "expect": {"entities": [{"text": "Nike", "label": "BRAND"}], "notEntities": [{"text": "white", "label": "BRAND"}]}}
 * ```
 *
 * Expectations (any combination; every one must hold):
 * - `entities`: must contain each entity — by surface `text` (any whole-word occurrence, or the `occurrence`-th),
 *   or by character offsets `start`/`end` — with its `label`.
 * - `notEntities`: no predicted entity may touch (overlap) the given text or offsets; with `label`, only entities of
 *   that label count; a `label` alone forbids that label anywhere.
 * - `exactEntities`: the predicted entities must be exactly these (offsets and labels); `[]` means none.
 * - `class` / `notClass`: the predicted class is (is not) this one (multilabel: `class` is the only label).
 * - `labels` / `notLabels` / `exactLabels`: the predicted labels include / exclude / equal these.
 */

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { didYouMean, formatPath, validateConfig } from '../core/config.ts';
import { NotFoundError, type Problem, SapphireError, throwIfProblems } from '../core/errors.ts';
import type { TaskKind } from '../data/types.ts';
import { type Model, type PredictedSpan, type Prediction, predictMany } from '../models/model.ts';
import { wholeWordOccurrences } from '../text/whole-words.ts';

/** An entity picked by its surface text (optionally its n-th whole-word occurrence) or by character offsets. */
export interface EntityRef {
  /** Surface text, matched as a whole word (or words) in the text. */
  text?: string;
  /** 1-based occurrence of `text`; without it any occurrence matches. */
  occurrence?: number;
  /** Character offsets (`end` exclusive); give both. */
  start?: number;
  end?: number;
  /** Entity label; required except in `notEntities`. */
  label?: string;
}

/** What a model must (not) predict for one text; every given expectation must hold. */
export interface Expectations {
  entities?: EntityRef[];
  notEntities?: EntityRef[];
  exactEntities?: EntityRef[];
  class?: string;
  notClass?: string;
  labels?: string[];
  notLabels?: string[];
  exactLabels?: string[];
}

/** One earmark: a text, where it was written and what must be predicted for it. */
export interface Earmark {
  id: string;
  text: string;
  /** Why this example matters (free text). */
  note?: string;
  /** 1-based line in the earmarks file (0 when built in code). */
  line: number;
  expect: Expectations;
}

/** An expectation that did not hold: where it is written, what it asked for, what was expected and what came out. */
export interface ExpectationFailure {
  /** Field path of the expectation, e.g. `expect.entities.0`. */
  path: string;
  /** The expectation in words, e.g. `contains "Nike" as BRAND`. */
  expectation: string;
  expected: string;
  actual: string;
  /** For exact sets: expected but not predicted. */
  missing?: string[];
  /** For exact sets: predicted but not expected. */
  unexpected?: string[];
}

/** An earmark that failed, with the model's prediction and every expectation it broke. */
export interface EarmarkResult {
  id: string;
  text: string;
  line: number;
  prediction: Prediction;
  failures: ExpectationFailure[];
}

/** Outcome of {@link runEarmarks}. */
export interface EarmarkReport {
  total: number;
  passed: number;
  failed: EarmarkResult[];
}

/** Default file name of the earmarks, in the project folder. */
export const EARMARKS_FILE = 'earmarks.jsonl';

const NER_KEYS = ['entities', 'notEntities', 'exactEntities'] as const;
const CLASS_KEYS = ['class', 'notClass', 'labels', 'notLabels', 'exactLabels'] as const;
const EXPECTATION_KEYS = [...NER_KEYS, ...CLASS_KEYS] as const;

const labelName = z.string().regex(/^\S+$/, 'labels cannot be empty or contain spaces');

function entityRefSchema(needs: 'label' | 'anything') {
  return z
    .strictObject({
      text: z.string().min(1).optional(),
      occurrence: z.int().min(1).optional(),
      start: z.int().min(0).optional(),
      end: z.int().min(1).optional(),
      label: needs === 'label' ? labelName : labelName.optional(),
    })
    .superRefine((ref, ctx) => {
      const issue = (message: string, path: string[] = []) =>
        ctx.addIssue({ code: 'custom', path, message, input: ref });
      if ((ref.start === undefined) !== (ref.end === undefined))
        issue('give both start and end (character offsets, end exclusive)', [
          ref.start === undefined ? 'start' : 'end',
        ]);
      else if (ref.start !== undefined && ref.end !== undefined && ref.start >= ref.end)
        issue(`start (${ref.start}) must be before end (${ref.end})`, ['start']);
      if (ref.occurrence !== undefined && ref.text === undefined)
        issue('occurrence counts occurrences of text: give text too', ['occurrence']);
      if (ref.occurrence !== undefined && ref.start !== undefined)
        issue('give either occurrence or start/end, not both', ['occurrence']);
      const placed = ref.text !== undefined || ref.start !== undefined;
      if (needs === 'label' && !placed)
        issue('say which entity: give text (and occurrence) or start and end');
      if (needs === 'anything' && !placed && ref.label === undefined)
        issue('give text, start/end or label (or several)');
    });
}

const labelList = z.array(labelName);

/**
 * Zod schema of an `expect` object (earmarks, and the `expect` of minimum-functionality behaviour tests).
 *
 * @example
 * expectationsSchema.parse({ entities: [{ text: 'Nike', label: 'BRAND' }] });
 */
export const expectationsSchema = z
  .strictObject({
    entities: z.array(entityRefSchema('label')).optional(),
    notEntities: z.array(entityRefSchema('anything')).optional(),
    exactEntities: z.array(entityRefSchema('label')).optional(),
    class: labelName.optional(),
    notClass: labelName.optional(),
    labels: labelList.optional(),
    notLabels: labelList.optional(),
    exactLabels: labelList.optional(),
  })
  .superRefine(
    (expect, ctx) => {
      if (!EXPECTATION_KEYS.some((k) => expect[k] !== undefined))
        ctx.addIssue({
          code: 'custom',
          message: `nothing to check; give at least one of ${EXPECTATION_KEYS.join(', ')}`,
          input: expect,
        });
    },
    { when: (payload) => (payload.issues ?? []).length === 0 },
  ); // a misspelt key is reported on its own

const earmarkLineSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'ids use letters, digits, "-", "_", "." and ":"')
    .optional(),
  text: z.string().min(1),
  note: z.string().optional(),
  expect: expectationsSchema,
});

/** What a text-dependent check needs to know about the project. */
export interface ExpectationContext {
  /** The project's task: expectations of the other kind are refused. */
  task?: TaskKind;
  /** The project's labels: unknown labels are refused with a suggestion. */
  labels?: readonly string[];
}

/** A character range, `end` exclusive. */
export interface Range {
  start: number;
  end: number;
}

/**
 * Where an entity reference points in a text: the offsets, the n-th occurrence, or every whole-word occurrence
 * of its text; a string explains why it points nowhere.
 */
export function locateEntity(text: string, ref: EntityRef): Range[] | string {
  if (ref.start !== undefined && ref.end !== undefined) {
    if (ref.end > text.length)
      return `offsets ${ref.start}-${ref.end} run past the end of the text (${text.length} characters)`;
    const surface = text.slice(ref.start, ref.end);
    if (ref.text !== undefined && ref.text !== surface)
      return `text "${ref.text}" does not match the text at ${ref.start}-${ref.end} ("${surface}")`;
    return [{ start: ref.start, end: ref.end }];
  }
  if (ref.text === undefined) return [];
  const starts = wholeWordOccurrences(text, ref.text);
  if (starts.length === 0) return `"${ref.text}" does not occur as a whole word in the text`;
  const len = ref.text.length;
  if (ref.occurrence !== undefined) {
    const at = starts[ref.occurrence - 1];
    if (at === undefined)
      return `"${ref.text}" occurs ${starts.length} time${starts.length === 1 ? '' : 's'}, so there is no occurrence ${ref.occurrence}`;
    return [{ start: at, end: at + len }];
  }
  return starts.map((s) => ({ start: s, end: s + len }));
}

/**
 * Problems with an `expect` object that only show against its text and the project: entities not in the text,
 * offsets past its end, labels the project lacks, expectations for the other task. With `text` null (a template
 * not yet filled), only the labels and the task are checked.
 */
export function checkExpectationsAgainstText(
  text: string | null,
  expect: Expectations,
  context: ExpectationContext = {},
  prefix: (string | number)[] = ['expect'],
): Problem[] {
  const problems: Problem[] = [];
  const add = (path: (string | number)[], message: string) =>
    problems.push({ path: formatPath([...prefix, ...path]), message });
  const { task, labels } = context;
  if (task) {
    const wrong = task === 'ner' ? CLASS_KEYS : NER_KEYS;
    for (const key of wrong) {
      if (expect[key] === undefined) continue;
      add(
        [key],
        task === 'ner'
          ? `the project's task is ner, so there are no classes to check; use entities, notEntities or exactEntities`
          : `the project's task is ${task}, so there are no entities to check; use class, notClass, labels, notLabels or exactLabels`,
      );
    }
  }
  const checkLabel = (label: string | undefined, path: (string | number)[]) => {
    if (label === undefined || !labels || labels.length === 0 || labels.includes(label)) return;
    if (text === null && label.includes('{')) return; // a template placeholder, filled per case
    add(
      path,
      `label "${label}" is not one of the project's labels (${labels.join(', ')})${didYouMean(label, labels)}`,
    );
  };
  for (const key of NER_KEYS) {
    expect[key]?.forEach((ref, i) => {
      checkLabel(ref.label, [key, i, 'label']);
      if (text === null) return;
      const where = locateEntity(text, ref);
      if (typeof where === 'string') add([key, i], where);
      else if (key === 'exactEntities' && where.length > 1)
        add(
          [key, i],
          `"${ref.text}" occurs ${where.length} times; add "occurrence": 1 to ${where.length} (or start and end) to say which`,
        );
    });
  }
  checkLabel(expect.class, ['class']);
  checkLabel(expect.notClass, ['notClass']);
  for (const key of ['labels', 'notLabels', 'exactLabels'] as const)
    expect[key]?.forEach((label, i) => {
      checkLabel(label, [key, i]);
    });
  return problems;
}

/**
 * Parses the text of an earmarks file, collecting every problem (JSON syntax, unknown or missing fields with
 * suggestions, entities that are not in their text, labels the project lacks) and throwing them together.
 *
 * @example
 * const earmarks = parseEarmarks('{"text": "Nike shoes", "expect": {"entities": [{"text": "Nike", "label": "BRAND"}]}}', {
 *   file: 'earmarks.jsonl', task: 'ner', labels: ['BRAND'],
 * });
 */
export function parseEarmarks(
  source: string,
  options: ExpectationContext & { file?: string } = {},
): Earmark[] {
  const file = options.file ?? EARMARKS_FILE;
  const problems: Problem[] = [];
  const earmarks: Earmark[] = [];
  const seen = new Map<string, number>();
  source.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      problems.push({
        file,
        line,
        message: `not valid JSON (${(e as Error).message}); write one JSON object per line`,
      });
      return;
    }
    let parsed: z.output<typeof earmarkLineSchema>;
    try {
      parsed = validateConfig(earmarkLineSchema, value, { file, lineOf: () => line });
    } catch (e) {
      if (!(e instanceof SapphireError)) throw e;
      problems.push(...(e.details.problems ?? [{ file, line, message: e.message }]));
      return;
    }
    const id = parsed.id ?? `line-${line}`;
    const first = seen.get(id);
    if (first !== undefined) {
      problems.push({
        file,
        line,
        path: 'id',
        message: `duplicate id "${id}" (already used on line ${first})`,
      });
      return;
    }
    seen.set(id, line);
    const textProblems = checkExpectationsAgainstText(parsed.text, parsed.expect, options);
    if (textProblems.length > 0) {
      problems.push(...textProblems.map((p) => ({ file, line, ...p })));
      return;
    }
    earmarks.push({
      id,
      text: parsed.text,
      line,
      expect: parsed.expect,
      ...(parsed.note !== undefined ? { note: parsed.note } : {}),
    });
  });
  throwIfProblems(
    problems,
    file,
    `fix the lines listed above in ${file} (one JSON object per line: {"id", "text", "expect": {…}})`,
  );
  return earmarks;
}

/**
 * Reads and validates an earmarks file; throws NOT_FOUND when it is missing and DATA_INVALID listing every bad line.
 *
 * @example
 * const earmarks = loadEarmarks('earmarks.jsonl', { task: card.task, labels: card.labels });
 */
export function loadEarmarks(file: string, options: ExpectationContext = {}): Earmark[] {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`no earmarks file at ${file}`, {
        file,
        hint: `create it with one JSON object per line, e.g. {"text": "Nike shoes", "expect": {"entities": [{"text": "Nike", "label": "BRAND"}]}}`,
      });
    throw e;
  }
  return parseEarmarks(source, { ...options, file });
}

/** `"Nike" as BRAND at 0-4 (0.91)`: a predicted or expected entity in words. */
export function describeSpan(text: string, span: Range & { label: string; score?: number }): string {
  const score = span.score === undefined ? '' : ` (${span.score.toFixed(2)})`;
  return `"${text.slice(span.start, span.end)}" as ${span.label} at ${span.start}-${span.end}${score}`;
}

/** The text with entities marked inline, e.g. `[Nike](BRAND) Air Max`; overlapping entities after the first are left out. */
export function markEntities(text: string, spans: readonly (Range & { label: string })[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const span of sorted) {
    if (span.start < at) continue;
    out += `${text.slice(at, span.start)}[${text.slice(span.start, span.end)}](${span.label})`;
    at = span.end;
  }
  return out + text.slice(at);
}

function describeRef(ref: EntityRef): string {
  const where =
    ref.start !== undefined
      ? `${ref.text !== undefined ? `"${ref.text}" at` : 'characters'} ${ref.start}-${ref.end}`
      : ref.text !== undefined
        ? `"${ref.text}"${ref.occurrence !== undefined ? ` (occurrence ${ref.occurrence})` : ''}`
        : 'any entity';
  return where;
}

const overlaps = (a: Range, b: Range): boolean => a.start < b.end && b.start < a.end;
const sameRange = (a: Range, b: Range): boolean => a.start === b.start && a.end === b.end;
const spanKey = (s: Range & { label: string }): string => `${s.start}:${s.end}:${s.label}`;

function predictedLabels(prediction: Prediction): string[] {
  return prediction.labels ?? [];
}

function describeLabels(prediction: Prediction): string {
  const labels = predictedLabels(prediction);
  if (labels.length === 0) return 'no label';
  const score = (l: string) => prediction.scores?.find((s) => s.label === l)?.score;
  return labels
    .map((l) => {
      const s = score(l);
      return s === undefined ? l : `${l} (${s.toFixed(2)})`;
    })
    .join(', ');
}

function entityFailures(
  text: string,
  spans: readonly PredictedSpan[],
  expect: Expectations,
  prefix: string,
): ExpectationFailure[] {
  const failures: ExpectationFailure[] = [];
  const unresolved = (key: string, i: number, why: string, expectation: string) =>
    failures.push({ path: `${prefix}.${key}.${i}`, expectation, expected: expectation, actual: why });
  expect.entities?.forEach((ref, i) => {
    const expectation = `contains ${describeRef(ref)} as ${ref.label}`;
    const where = locateEntity(text, ref);
    if (typeof where === 'string') {
      unresolved('entities', i, where, expectation);
      return;
    }
    if (spans.some((s) => s.label === ref.label && where.some((r) => sameRange(r, s)))) return;
    const near = spans.filter((s) => where.some((r) => overlaps(r, s)));
    failures.push({
      path: `${prefix}.entities.${i}`,
      expectation,
      expected: where.map((r) => describeSpan(text, { ...r, label: ref.label! })).join(' or '),
      actual: near.length
        ? near.map((s) => describeSpan(text, s)).join('; ')
        : `no entity predicted on ${describeRef(ref)}`,
    });
  });
  expect.notEntities?.forEach((ref, i) => {
    const expectation = `does not label ${describeRef(ref)}${ref.label ? ` as ${ref.label}` : ''}`;
    const where = locateEntity(text, ref);
    if (typeof where === 'string') {
      unresolved('notEntities', i, where, expectation);
      return;
    }
    const placed = ref.text !== undefined || ref.start !== undefined;
    const offending = spans.filter(
      (s) =>
        (ref.label === undefined || s.label === ref.label) && (!placed || where.some((r) => overlaps(r, s))),
    );
    if (offending.length === 0) return;
    failures.push({
      path: `${prefix}.notEntities.${i}`,
      expectation,
      expected: `no ${ref.label ?? ''}${ref.label ? ' ' : ''}entity ${placed ? `touching ${describeRef(ref)}` : 'at all'}`,
      actual: offending.map((s) => describeSpan(text, s)).join('; '),
    });
  });
  if (expect.exactEntities) {
    const wanted: (Range & { label: string })[] = [];
    for (const [i, ref] of expect.exactEntities.entries()) {
      const where = locateEntity(text, ref);
      if (typeof where === 'string' || where.length !== 1) {
        const why = typeof where === 'string' ? where : `"${ref.text}" occurs ${where.length} times`;
        unresolved('exactEntities', i, why, `exactly ${describeRef(ref)} as ${ref.label}`);
        continue;
      }
      wanted.push({ ...where[0]!, label: ref.label! });
    }
    const predictedKeys = new Set(spans.map(spanKey));
    const wantedKeys = new Set(wanted.map(spanKey));
    const missing = wanted.filter((s) => !predictedKeys.has(spanKey(s)));
    const unexpected = spans.filter((s) => !wantedKeys.has(spanKey(s)));
    if (missing.length > 0 || unexpected.length > 0)
      failures.push({
        path: `${prefix}.exactEntities`,
        expectation: `exactly ${wanted.length} entit${wanted.length === 1 ? 'y' : 'ies'}`,
        expected: wanted.length ? markEntities(text, wanted) : '(no entities)',
        actual: spans.length ? markEntities(text, spans) : '(no entities)',
        missing: missing.map((s) => describeSpan(text, s)),
        unexpected: unexpected.map((s) => describeSpan(text, s)),
      });
  }
  return failures;
}

function labelFailures(prediction: Prediction, expect: Expectations, prefix: string): ExpectationFailure[] {
  const failures: ExpectationFailure[] = [];
  const labels = predictedLabels(prediction);
  const actual = describeLabels(prediction);
  if (expect.class !== undefined && !(labels.length === 1 && labels[0] === expect.class))
    failures.push({
      path: `${prefix}.class`,
      expectation: `class is ${expect.class}`,
      expected: expect.class,
      actual,
    });
  if (expect.notClass !== undefined && labels.includes(expect.notClass))
    failures.push({
      path: `${prefix}.notClass`,
      expectation: `class is not ${expect.notClass}`,
      expected: `anything but ${expect.notClass}`,
      actual,
    });
  if (expect.labels) {
    const missing = expect.labels.filter((l) => !labels.includes(l));
    if (missing.length > 0)
      failures.push({
        path: `${prefix}.labels`,
        expectation: `labels include ${expect.labels.join(', ')}`,
        expected: expect.labels.join(', '),
        actual,
        missing,
      });
  }
  if (expect.notLabels) {
    const unexpected = expect.notLabels.filter((l) => labels.includes(l));
    if (unexpected.length > 0)
      failures.push({
        path: `${prefix}.notLabels`,
        expectation: `labels exclude ${expect.notLabels.join(', ')}`,
        expected: `none of ${expect.notLabels.join(', ')}`,
        actual,
        unexpected,
      });
  }
  if (expect.exactLabels) {
    const missing = expect.exactLabels.filter((l) => !labels.includes(l));
    const unexpected = labels.filter((l) => !expect.exactLabels!.includes(l));
    if (missing.length > 0 || unexpected.length > 0)
      failures.push({
        path: `${prefix}.exactLabels`,
        expectation: `labels are exactly ${expect.exactLabels.join(', ') || '(none)'}`,
        expected: expect.exactLabels.join(', ') || '(no label)',
        actual,
        missing,
        unexpected,
      });
  }
  return failures;
}

/**
 * Checks one prediction against an `expect` object and returns every expectation it breaks (empty when all hold).
 *
 * @example
 * checkExpectations('Nike shoes', { spans: [] }, { entities: [{ text: 'Nike', label: 'BRAND' }] }); // one failure
 */
export function checkExpectations(
  text: string,
  prediction: Prediction,
  expect: Expectations,
  prefix = 'expect',
): ExpectationFailure[] {
  return [
    ...entityFailures(text, prediction.spans ?? [], expect, prefix),
    ...labelFailures(prediction, expect, prefix),
  ];
}

/**
 * Predicts every earmark with the model (one batch) and checks its expectations.
 *
 * @example
 * const report = runEarmarks(model, loadEarmarks('earmarks.jsonl'));
 * if (report.failed.length > 0) console.log(report.failed.map(formatEarmarkFailure).join('\n\n'));
 */
export async function runEarmarks(model: Model, earmarks: readonly Earmark[]): Promise<EarmarkReport> {
  const predictions = earmarks.length
    ? await predictMany(
        model,
        earmarks.map((e) => ({ text: e.text })),
      )
    : [];
  const failed: EarmarkResult[] = [];
  earmarks.forEach((earmark, i) => {
    const prediction = predictions[i] ?? {};
    const failures = checkExpectations(earmark.text, prediction, earmark.expect);
    if (failures.length > 0)
      failed.push({ id: earmark.id, text: earmark.text, line: earmark.line, prediction, failures });
  });
  return { total: earmarks.length, passed: earmarks.length - failed.length, failed };
}

/** One expectation failure as indented lines: the expectation, then expected and actual (and the set difference). */
export function formatExpectationFailure(failure: ExpectationFailure, indent = '  '): string {
  const lines = [
    `${indent}${failure.path}: ${failure.expectation}`,
    `${indent}  expected: ${failure.expected}`,
    `${indent}  actual:   ${failure.actual}`,
  ];
  if (failure.missing?.length) lines.push(`${indent}  missing:    ${failure.missing.join('; ')}`);
  if (failure.unexpected?.length) lines.push(`${indent}  unexpected: ${failure.unexpected.join('; ')}`);
  return lines.join('\n');
}

/** A failed earmark for people: its id and line, the text with the predicted entities marked, and each difference. */
export function formatEarmarkFailure(result: EarmarkResult, file = EARMARKS_FILE): string {
  const predicted =
    result.prediction.spans !== undefined
      ? markEntities(result.text, result.prediction.spans)
      : describeLabels(result.prediction);
  return [
    `✗ ${result.id} (${file}:${result.line})`,
    `  text:      ${result.text}`,
    `  predicted: ${predicted}`,
    ...result.failures.map((f) => formatExpectationFailure(f, '  ')),
  ].join('\n');
}

export { wholeWordOccurrences };
