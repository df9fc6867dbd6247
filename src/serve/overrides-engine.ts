/**
 * The overrides engine: "always give this answer" / "never give this answer" rules applied to a model's
 * prediction after the model, on every served request. Pure and fast: rules are compiled once (regexes built,
 * phrases lowercased, rules indexed by target and label) and applied without I/O.
 */
import safeRegex from 'safe-regex2';
import { SapphireError } from '../core/errors.ts';
import type { TaskKind } from '../data/types.ts';
import type { LabelScore, Prediction } from '../models/model.ts';
import type {
  NewOverride,
  Override,
  OverrideAction,
  OverrideMatch,
  OverrideTarget,
} from '../store/serving-store.ts';
import { wholeWordOccurrences } from '../text/whole-words.ts';

/** A chosen class label as served, marked with the rule id when an always-rule set it. */
export interface ServedLabel {
  label: string;
  score: number;
  /** Id of the always-rule that set this label. */
  override?: string;
}

/** An entity as served (character offsets into the text), marked with the rule id when an always-rule made it. */
export interface ServedEntity {
  start: number;
  end: number;
  text: string;
  label: string;
  score: number;
  /** Id of the always-rule that made this entity. */
  override?: string;
}

/** A rule that changed a served answer. */
export interface AppliedOverride {
  id: string;
  action: OverrideAction;
  label: string;
  target: OverrideTarget;
}

/** One served answer: the model's prediction after the overrides, with every rule that changed it. */
export interface ServedResult {
  /** classify/multilabel: the chosen labels. */
  labels?: ServedLabel[];
  /** classify/multilabel: the model's scores for every class, best first (as the model gave them). */
  scores?: LabelScore[];
  /** ner: the entities. */
  entities?: ServedEntity[];
  /** Every rule that changed this answer, in the order applied (never-rules first, then always-rules). */
  overrides: AppliedOverride[];
}

/** A rule ready to apply: pattern compiled once. */
export interface CompiledRule {
  id: string;
  action: OverrideAction;
  match: OverrideMatch;
  target: OverrideTarget;
  label: string;
  /** exact: the trimmed pattern; phrase: the trimmed, lowercased phrase; regex: the source. */
  pattern: string;
  /** regex only: for yes/no tests (no `g`/`y` flag, so `test` keeps no state). */
  test: RegExp | null;
  /** regex only: with `g` added, for finding every range (lastIndex reset around each use). */
  global: RegExp | null;
}

/** Override rules compiled for {@link applyOverrides}: active rules only, indexed by target, action and label. */
export interface CompiledOverrides {
  /** Number of active rules compiled. */
  readonly size: number;
  /** class/never rules by label, oldest first. */
  readonly classNever: ReadonlyMap<string, readonly CompiledRule[]>;
  /** class/always rules, oldest first. */
  readonly classAlways: readonly CompiledRule[];
  /** entity/never rules by label, oldest first. */
  readonly entityNever: ReadonlyMap<string, readonly CompiledRule[]>;
  /** entity/always rules, oldest first. */
  readonly entityAlways: readonly CompiledRule[];
}

const ACTIONS: readonly OverrideAction[] = ['always', 'never'];
const MATCHES: readonly OverrideMatch[] = ['exact', 'phrase', 'regex'];
const TARGETS: readonly OverrideTarget[] = ['class', 'entity'];
const FLAGS = /^[imsu]*$/;
/** Longest pattern accepted (long alternations belong in a model, not in an override). */
const MAX_PATTERN_CHARS = 2000;

function bad(path: string, message: string, hint: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, { path, hint });
}

/**
 * Checks an override rule before it is stored; throws SapphireError BAD_INPUT naming the field (`path`) and what
 * to do: known action/match/target, a non-empty pattern and label, a regex that compiles with flags from `imsu`
 * (flags only for regex), and a target that fits the task (`class` for classify/multilabel, `entity` for ner).
 *
 * @example
 * validateOverride({ tenant: 'default', model: 'shop-ner', action: 'never', match: 'phrase', pattern: 'apple pie',
 *   target: 'entity', label: 'BRAND', createdBy: 'user:alice' }, 'ner');
 */
export function validateOverride(input: NewOverride, task?: TaskKind): void {
  if (typeof input.model !== 'string' || input.model.trim() === '')
    throw bad('model', 'the override names no model', 'give the registered model name the rule applies to');
  if (!ACTIONS.includes(input.action))
    throw bad(
      'action',
      `unknown override action ${JSON.stringify(input.action)}`,
      'use "always" (give this answer) or "never" (never give it)',
    );
  if (!MATCHES.includes(input.match))
    throw bad(
      'match',
      `unknown override match ${JSON.stringify(input.match)}`,
      'use "exact" (the whole text), "phrase" (whole words, any case) or "regex"',
    );
  if (!TARGETS.includes(input.target))
    throw bad(
      'target',
      `unknown override target ${JSON.stringify(input.target)}`,
      'use "class" (a class label) or "entity" (an entity type)',
    );
  if (typeof input.pattern !== 'string' || input.pattern.trim() === '')
    throw bad('pattern', 'the override pattern is empty', 'give the text, phrase or regex the rule matches');
  if (input.pattern.length > MAX_PATTERN_CHARS)
    throw bad(
      'pattern',
      `the override pattern is ${input.pattern.length} characters long (at most ${MAX_PATTERN_CHARS})`,
      'use a shorter pattern, or fix the model with more training data instead',
    );
  if (typeof input.label !== 'string' || input.label.trim() === '')
    throw bad('label', 'the override names no label', 'give the class or entity type the rule is about');
  const flags = input.flags ?? '';
  if (typeof flags !== 'string' || !FLAGS.test(flags) || new Set(flags).size !== flags.length)
    throw bad(
      'flags',
      `invalid regex flags ${JSON.stringify(flags)}`,
      'use any of i (ignore case), m (multiline), s (dot matches newlines), u (unicode), each at most once',
    );
  if (flags !== '' && input.match !== 'regex')
    throw bad('flags', `flags "${flags}" only apply to regex rules`, 'leave out the flags, or use a regex');
  if (input.match === 'regex') {
    try {
      new RegExp(input.pattern, flags);
    } catch (err) {
      throw bad(
        'pattern',
        `the regex ${JSON.stringify(input.pattern)} does not compile: ${(err as Error).message}`,
        'fix the regular expression (JavaScript syntax), or use an exact or phrase rule',
      );
    }
    // Rules run synchronously on every request of every tenant: refuse patterns with nested or overlapping
    // quantifiers, whose backtracking can take exponential time on some texts.
    if (!safeRegex(input.pattern))
      throw bad(
        'pattern',
        `the regex ${JSON.stringify(input.pattern)} may take exponential time on some texts (nested or repeated quantifiers, e.g. (a+)+)`,
        'simplify it (no quantifier applied to a group that itself repeats), or use a phrase rule',
      );
  }
  if (task === 'ner' && input.target !== 'entity')
    throw bad(
      'target',
      'a ner model predicts entities, so its overrides must target an entity type',
      'use target "entity" (--entity) with an entity label',
    );
  if ((task === 'classify' || task === 'multilabel') && input.target !== 'class')
    throw bad(
      'target',
      `a ${task} model predicts classes, so its overrides must target a class`,
      'use target "class" (--class) with a class label',
    );
}

function compileRule(rule: Override): CompiledRule {
  const regex = rule.match === 'regex';
  const flags = rule.flags ?? '';
  return {
    id: rule.id,
    action: rule.action,
    match: rule.match,
    target: rule.target,
    label: rule.label,
    pattern:
      rule.match === 'exact'
        ? rule.pattern.trim()
        : rule.match === 'phrase'
          ? rule.pattern.trim().toLowerCase()
          : rule.pattern,
    test: regex ? new RegExp(rule.pattern, flags) : null,
    global: regex ? new RegExp(rule.pattern, `${flags}g`) : null,
  };
}

function addByLabel(index: Map<string, CompiledRule[]>, rule: CompiledRule): void {
  const list = index.get(rule.label);
  if (list) list.push(rule);
  else index.set(rule.label, [rule]);
}

/**
 * Compiles the active rules (removed ones are skipped) once, for applying them to many predictions.
 *
 * @example
 * const compiled = compileOverrides(await store.overrides.listOverrides('default', { model: 'shop-ner' }));
 */
export function compileOverrides(rules: readonly Override[]): CompiledOverrides {
  const classNever = new Map<string, CompiledRule[]>();
  const entityNever = new Map<string, CompiledRule[]>();
  const classAlways: CompiledRule[] = [];
  const entityAlways: CompiledRule[] = [];
  let size = 0;
  for (const rule of rules) {
    if (rule.removedAt) continue;
    const compiled = compileRule(rule);
    size++;
    if (compiled.target === 'class') {
      if (compiled.action === 'never') addByLabel(classNever, compiled);
      else classAlways.push(compiled);
    } else if (compiled.action === 'never') addByLabel(entityNever, compiled);
    else entityAlways.push(compiled);
  }
  return { size, classNever, classAlways, entityNever, entityAlways };
}

/** The text lowercased once, with a map back to the original offsets when lowercasing changed its length. */
interface LowerText {
  lower: string;
  /** Original start / end offsets of the code point each lowercased code unit came from; null when 1:1. */
  starts: number[] | null;
  ends: number[] | null;
}

function lowerText(text: string): LowerText {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return { lower, starts: null, ends: null };
  // Rare (e.g. "İ" → "i̇"): lowercase code point by code point and remember where each unit came from.
  let built = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const cp of text) {
    const low = cp.toLowerCase();
    built += low;
    for (let k = 0; k < low.length; k++) {
      starts.push(at);
      ends.push(at + cp.length);
    }
    at += cp.length;
  }
  return { lower: built, starts, ends };
}

/** Per-call state: the text, its lowercased form (made on first use) and each rule's yes/no answer. */
class TextMatcher {
  private lowered: LowerText | null = null;
  private readonly answers = new Map<string, boolean>();

  constructor(readonly text: string) {}

  lower(): LowerText {
    this.lowered ??= lowerText(this.text);
    return this.lowered;
  }

  /** Whether the rule matches the whole text (exact), a phrase in it, or its regex finds something. */
  matches(rule: CompiledRule): boolean {
    const known = this.answers.get(rule.id);
    if (known !== undefined) return known;
    const answer = matchesText(rule, this.text, () => this.lower().lower);
    this.answers.set(rule.id, answer);
    return answer;
  }

  /** Every non-empty range the rule matches, in text order (exact: the whole text without outer spaces). */
  ranges(rule: CompiledRule): [number, number][] {
    const text = this.text;
    if (rule.match === 'exact') {
      if (text.trim() !== rule.pattern) return [];
      const start = text.length - text.trimStart().length;
      return [[start, start + rule.pattern.length]];
    }
    if (rule.match === 'phrase') {
      const { lower, starts, ends } = this.lower();
      const len = rule.pattern.length;
      return wholeWordOccurrences(lower, rule.pattern).map((at): [number, number] =>
        starts && ends ? [starts[at]!, ends[at + len - 1]!] : [at, at + len],
      );
    }
    const re = rule.global!;
    const found: [number, number][] = [];
    re.lastIndex = 0;
    try {
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const start = m.index;
        const end = start + m[0].length;
        if (end > start) found.push([start, end]);
        else re.lastIndex = advance(text, re.lastIndex, re.unicode);
      }
    } finally {
      re.lastIndex = 0;
    }
    return found;
  }
}

/** The index after `at`, stepping over a whole surrogate pair in unicode mode. */
function advance(text: string, at: number, unicode: boolean): number {
  if (!unicode || at + 1 >= text.length) return at + 1;
  const code = text.charCodeAt(at);
  return code >= 0xd800 && code <= 0xdbff ? at + 2 : at + 1;
}

function matchesText(rule: CompiledRule, text: string, lower: () => string): boolean {
  if (rule.match === 'exact') return text.trim() === rule.pattern;
  if (rule.match === 'phrase') return wholeWordOccurrences(lower(), rule.pattern).length > 0;
  return rule.test!.test(text);
}

/** Whether an entity's own text matches a never-rule. */
function matchesEntity(rule: CompiledRule, entityText: string): boolean {
  return matchesText(rule, entityText, () => entityText.toLowerCase());
}

function record(applied: AppliedOverride[], rule: CompiledRule): void {
  if (applied.some((a) => a.id === rule.id)) return;
  applied.push({ id: rule.id, action: rule.action, label: rule.label, target: rule.target });
}

/** The first never-rule of `label` that matches the text, or null. */
function blockingRule(
  index: ReadonlyMap<string, readonly CompiledRule[]>,
  label: string,
  matcher: TextMatcher,
): CompiledRule | null {
  const rules = index.get(label);
  if (!rules) return null;
  for (const rule of rules) if (matcher.matches(rule)) return rule;
  return null;
}

function scoreOf(scores: readonly LabelScore[] | undefined, label: string): number | undefined {
  return scores?.find((s) => s.label === label)?.score;
}

function classify(
  compiled: CompiledOverrides,
  matcher: TextMatcher,
  prediction: Prediction,
  applied: AppliedOverride[],
): ServedLabel[] {
  const scores = prediction.scores;
  const predicted = prediction.labels?.[0] ?? scores?.[0]?.label;
  let current: ServedLabel | null =
    predicted === undefined ? null : { label: predicted, score: scoreOf(scores, predicted) ?? 1 };
  // Never-rules: while the current answer is blocked, fall back to the best class not blocked.
  if (current && compiled.classNever.size > 0) {
    const blocked = new Set<string>();
    for (;;) {
      const rule: CompiledRule | null = current
        ? blockingRule(compiled.classNever, current.label, matcher)
        : null;
      if (!rule || !current) break;
      record(applied, rule);
      blocked.add(current.label);
      let best: LabelScore | null = null;
      for (const s of scores ?? []) if (!blocked.has(s.label) && (!best || s.score > best.score)) best = s;
      current = best ? { label: best.label, score: best.score } : null;
    }
  }
  // Always-rules: the oldest matching rule decides.
  for (const rule of compiled.classAlways) {
    if (!matcher.matches(rule)) continue;
    if (current?.label !== rule.label) {
      current = { label: rule.label, score: 1, override: rule.id };
      record(applied, rule);
    }
    break;
  }
  return current ? [current] : [];
}

function multilabel(
  compiled: CompiledOverrides,
  matcher: TextMatcher,
  prediction: Prediction,
  applied: AppliedOverride[],
): ServedLabel[] {
  const scores = prediction.scores;
  let labels: ServedLabel[] = (prediction.labels ?? []).map((label) => ({
    label,
    score: scoreOf(scores, label) ?? 1,
  }));
  if (compiled.classNever.size > 0) {
    labels = labels.filter((l) => {
      const rule = blockingRule(compiled.classNever, l.label, matcher);
      if (rule) record(applied, rule);
      return !rule;
    });
  }
  for (const rule of compiled.classAlways) {
    if (labels.some((l) => l.label === rule.label) || !matcher.matches(rule)) continue;
    labels.push({ label: rule.label, score: 1, override: rule.id });
    record(applied, rule);
  }
  return labels;
}

function entities(
  compiled: CompiledOverrides,
  matcher: TextMatcher,
  prediction: Prediction,
  applied: AppliedOverride[],
): ServedEntity[] {
  const text = matcher.text;
  let out: ServedEntity[] = (prediction.spans ?? []).map((s) => ({
    start: s.start,
    end: s.end,
    text: text.slice(s.start, s.end),
    label: s.label,
    score: s.score,
  }));
  if (compiled.entityNever.size > 0) {
    out = out.filter((e) => {
      const rules = compiled.entityNever.get(e.label);
      if (!rules) return true;
      for (const rule of rules) {
        if (matchesEntity(rule, e.text)) {
          record(applied, rule);
          return false;
        }
      }
      return true;
    });
  }
  if (compiled.entityAlways.length > 0) {
    // Ranges set by always-rules win over predictions; between rules, the oldest wins.
    const forced: ServedEntity[] = [];
    for (const rule of compiled.entityAlways) {
      let changed = false;
      for (const [start, end] of matcher.ranges(rule)) {
        if (forced.some((f) => f.start < end && start < f.end)) continue;
        const same = out.find((e) => e.start === start && e.end === end && e.label === rule.label);
        const before = out.length;
        out = out.filter((e) => !(e.start < end && start < e.end));
        if (same) {
          // The model already says so: keep its entity (and score); only other overlapping entities go.
          forced.push(same);
          if (out.length < before - 1) changed = true;
          continue;
        }
        forced.push({
          start,
          end,
          text: text.slice(start, end),
          label: rule.label,
          score: 1,
          override: rule.id,
        });
        changed = true;
      }
      if (changed) record(applied, rule);
    }
    out = out.concat(forced);
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/**
 * Applies compiled overrides to one prediction of `text`: never-rules first, then always-rules (see the issue's
 * semantics); returns the served answer with the rules that changed it. Rules whose target does not fit the task
 * are ignored. With no rules the answer is the prediction as served (its class scores cut to the best `maxScores`).
 *
 * @example
 * const served = applyOverrides(compileOverrides(rules), 'ner', 'I love apple pie', model.predict([{ text }])[0]!);
 * served.overrides; // [{ id: 'ov_1', action: 'never', label: 'BRAND', target: 'entity' }]
 */
export function applyOverrides(
  compiled: CompiledOverrides,
  task: TaskKind,
  text: string,
  prediction: Prediction,
  maxScores = Number.POSITIVE_INFINITY,
): ServedResult {
  const matcher = new TextMatcher(text);
  const applied: AppliedOverride[] = [];
  if (task === 'ner')
    return { entities: entities(compiled, matcher, prediction, applied), overrides: applied };
  const labels =
    task === 'classify'
      ? classify(compiled, matcher, prediction, applied)
      : multilabel(compiled, matcher, prediction, applied);
  const result: ServedResult = { labels, overrides: applied };
  const scores = prediction.scores;
  if (scores) {
    const limit = Number.isNaN(maxScores) ? scores.length : Math.max(0, Math.floor(maxScores));
    const kept: LabelScore[] = new Array(Math.min(scores.length, limit));
    for (let i = 0; i < kept.length; i++) kept[i] = { label: scores[i]!.label, score: scores[i]!.score };
    result.scores = kept;
  }
  return result;
}
