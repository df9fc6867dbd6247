import type { Problem } from '../core/errors.ts';
import { tokenize } from '../text/tokenizer.ts';
import type { Example, TaskKind, Token } from './types.ts';

/** Options for {@link validateExamples}. */
export interface ValidateOptions {
  /** When given, adds task checks: `classify` needs exactly one label, `multilabel` a `labels` array, `ner` a `spans` array. */
  task?: TaskKind;
  /**
   * Allowed labels. Checked against span labels for `ner`, class labels for `classify` and
   * `multilabel`, and against both when no task is given.
   */
  labelSet?: readonly string[];
  /** File the examples came from, copied into every problem. */
  file?: string;
}

/** A validation problem together with the index of the example it belongs to. */
export interface IndexedProblem {
  index: number;
  problem: Problem;
}

/**
 * Checks examples and returns every problem found (nothing is thrown): empty ids or texts,
 * duplicate ids, tokens that do not match the text, spans outside the text, empty, overlapping
 * or not on token boundaries (given tokens, else {@link tokenize}), unknown labels and task
 * shape. Each problem names the example id (and the file when given) and says what to do.
 *
 * @example
 * validateExamples([{ id: 'a', text: '', meta: {} }]); // [{ exampleId: 'a', message: 'text is empty; …' }]
 */
export function validateExamples(examples: readonly Example[], options: ValidateOptions = {}): Problem[] {
  return validateExamplesIndexed(examples, options).map((p) => p.problem);
}

/** Like {@link validateExamples} but keeps the index of the offending example (readers use it to leave examples out). */
export function validateExamplesIndexed(
  examples: readonly Example[],
  options: ValidateOptions = {},
): IndexedProblem[] {
  const out: IndexedProblem[] = [];
  const allowed = options.labelSet ? new Set(options.labelSet) : undefined;
  const allowedList = options.labelSet ? formatLabelList(options.labelSet) : '';
  const firstIndexOfId = new Map<string, number>();
  examples.forEach((ex, index) => {
    const add = (message: string) => {
      const problem: Problem = { message, exampleId: ex.id };
      if (options.file !== undefined) problem.file = options.file;
      out.push({ index, problem });
    };
    if (typeof ex.id !== 'string' || ex.id === '')
      add('the example has no id; give every example a unique id');
    else if (firstIndexOfId.has(ex.id)) {
      add(
        `duplicate id '${ex.id}' (first used by example #${firstIndexOfId.get(ex.id)! + 1}); give each example a unique id`,
      );
    } else firstIndexOfId.set(ex.id, index);

    if (typeof ex.text !== 'string' || ex.text.trim() === '') {
      add('text is empty; fill in the text or remove the example');
      return;
    }
    const text = ex.text;
    if (ex.tokens !== undefined) checkTokens(text, ex.tokens, add);
    if (ex.spans !== undefined) checkSpans(ex, add);
    checkLabels(ex, options, allowed, allowedList, add);
  });
  return out;
}

function checkTokens(text: string, tokens: readonly Token[], add: (m: string) => void): void {
  let prevEnd = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t.start) || !Number.isInteger(t.end) || t.start < 0 || t.end > text.length) {
      add(
        `token ${i} '${t.text}' [${t.start}, ${t.end}) is outside the text (length ${text.length}); fix its offsets`,
      );
      return;
    }
    if (t.start < prevEnd || t.end < t.start) {
      add(
        `token ${i} '${t.text}' [${t.start}, ${t.end}) overlaps or precedes the token before it; tokens must be in order`,
      );
      return;
    }
    if (t.end - t.start !== t.text.length || !text.startsWith(t.text, t.start)) {
      add(
        `token ${i} '${t.text}' does not match the text at [${t.start}, ${t.end}) ('${text.slice(t.start, t.end)}'); fix its offsets or text`,
      );
      return;
    }
    prevEnd = t.end;
  }
}

function checkSpans(ex: Example, add: (m: string) => void): void {
  const text = ex.text;
  const spans = ex.spans ?? [];
  let tokens: readonly Token[] | undefined;
  const sorted: { start: number; end: number; label: string }[] = [];
  for (const s of spans) {
    const what = `span [${s.start}, ${s.end}) '${s.label}'`;
    if (typeof s.label !== 'string' || s.label === '') {
      add(`span [${s.start}, ${s.end}) has no label; give it a label or remove it`);
      continue;
    }
    if (!Number.isInteger(s.start) || !Number.isInteger(s.end)) {
      add(`${what} needs integer character offsets`);
      continue;
    }
    if (s.end <= s.start) {
      add(`${what} ends before it starts (end ≤ start); fix the offsets or remove the span`);
      continue;
    }
    if (s.start < 0 || s.end > text.length) {
      add(`${what} goes past the end of the text (length ${text.length}); fix the offsets or the text`);
      continue;
    }
    tokens ??= ex.tokens ?? tokenize(ex.text);
    const startsOk = findToken(tokens, s.start, 'start') >= 0;
    const endsOk = findToken(tokens, s.end, 'end') >= 0;
    if (!startsOk || !endsOk) {
      const which = !startsOk && !endsOk ? 'start and end' : !startsOk ? 'start' : 'end';
      const source = ex.tokens ? 'its tokens' : 'the tokenizer';
      add(
        `${what} ("${text.slice(s.start, s.end)}") does not ${which} on a token boundary (${source}: ${nearbyTokens(tokens, s.start, s.end)}); fix the span offsets${ex.tokens ? ' or the tokens' : ' or add tokens'}`,
      );
    }
    sorted.push(s);
  }
  sorted.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.start < a.end) {
      add(
        `spans [${a.start}, ${a.end}) '${a.label}' and [${b.start}, ${b.end}) '${b.label}' overlap; keep only one (overlapping entities cannot be tagged)`,
      );
    }
  }
}

/** Index of the token whose `start` (or `end`) is `offset`, by binary search over tokens in text order; -1 when none. */
export function findToken(tokens: readonly Token[], offset: number, key: 'start' | 'end'): number {
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = tokens[mid]![key];
    if (v === offset) return mid;
    if (v < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function nearbyTokens(tokens: readonly Token[], start: number, end: number): string {
  const near = tokens.filter((t) => t.end > start - 1 && t.start < end + 1).slice(0, 6);
  return near.length === 0
    ? 'no tokens there'
    : near.map((t) => `'${t.text}' [${t.start}, ${t.end})`).join(' ');
}

function checkLabels(
  ex: Example,
  options: ValidateOptions,
  allowed: Set<string> | undefined,
  allowedList: string,
  add: (m: string) => void,
): void {
  const task = options.task;
  if (task === 'ner' && ex.spans === undefined)
    add('has no spans; use an empty list for a text without entities');
  if (task === 'classify') {
    const n = ex.labels?.length ?? 0;
    if (n === 0) add('has no label; give it one class label or remove it');
    else if (n > 1) {
      add(
        `has ${n} labels (${ex.labels!.join(', ')}) but the task is single-label; keep one or use task 'multilabel'`,
      );
    }
  }
  if (task === 'multilabel' && ex.labels === undefined)
    add('has no labels list; use an empty list when no label applies');
  if (!allowed) return;
  const unknown = (label: string, kind: string) =>
    add(`unknown ${kind} '${label}'; allowed: ${allowedList} (fix the label or add it to the label set)`);
  if (task === undefined || task === 'ner') {
    for (const s of ex.spans ?? [])
      if (typeof s.label === 'string' && !allowed.has(s.label)) unknown(s.label, 'span label');
  }
  if (task === undefined || task === 'classify' || task === 'multilabel') {
    for (const l of ex.labels ?? []) if (!allowed.has(l)) unknown(l, 'label');
  }
}

function formatLabelList(labels: readonly string[]): string {
  const shown = labels.slice(0, 30).join(', ');
  return labels.length > 30 ? `${shown}, … (${labels.length} in all)` : shown;
}
