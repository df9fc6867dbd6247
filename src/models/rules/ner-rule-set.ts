import { ConfigError, type Problem } from '../../core/errors.ts';
import type { Token } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import type { PredictedSpan } from '../model.ts';
import { regexTokenRanges, type SnapMode } from './regex-spans.ts';
import { readPatternFile, readPhraseFile } from './rule-files.ts';
import {
  joinPath,
  problemsOf,
  type RulesNerConfig,
  type TokenSpec,
  throwConfigProblems,
} from './rules-config.ts';
import { compileUserRegex, type PatternToken, TokenPattern } from './token-pattern.ts';
import { TokenTrie } from './token-trie.ts';

/** A phrase list with every phrase read (files inlined), as saved in `rules.json`. */
export interface PhraseListRule {
  label: string;
  caseSensitive: boolean;
  score: number;
  /** Config field the list came from, e.g. `phrases.0`. */
  path: string;
  file?: string;
  phrases: string[];
  /** 1-based line of each phrase in `file` (absent for inline phrases). */
  lines?: number[];
}

/** A spaCy EntityRuler pattern with where it came from. */
export interface PatternRule {
  label: string;
  pattern: string | TokenSpec[];
  id?: string;
  score: number;
  path: string;
  file?: string;
  line?: number;
}

/** A regex rule with where it came from. */
export interface RegexRule {
  label: string;
  regex: string;
  flags: string;
  group?: number | string;
  snap: SnapMode;
  score: number;
  path: string;
}

/** A phrase learnt from training spans: its tokens, label and how reliably train annotates it. */
export interface LearnedPhrase {
  label: string;
  /** The phrase's token texts as first annotated in train. */
  tokens: string[];
  caseSensitive: boolean;
  /** Share of the phrase's occurrences in train annotated with `label`. */
  precision: number;
  annotated: number;
  occurrences: number;
}

/** Every NER rule with files read, in priority order within each kind; what `rules.json` holds. */
export interface NerRuleSet {
  phraseMatcherAttr: 'orth' | 'lower';
  phraseLists: PhraseListRule[];
  patterns: PatternRule[];
  regexes: RegexRule[];
  learned: LearnedPhrase[];
}

/** The kinds of NER rule. */
export type NerRuleKind = 'phrase' | 'pattern' | 'regex' | 'learned';

/** One rule as explanations name it: kind, config path, label, score, its text and file:line when from a file. */
export interface NerRuleRef {
  kind: NerRuleKind;
  path: string;
  label: string;
  score: number;
  /** The phrase list's size, the pattern (text or JSON), the regex source or the learnt phrase. */
  text: string;
  file?: string;
  line?: number;
}

/** A span some rule matched, in tokens and characters, with the rule (its priority index) that matched it. */
export interface NerRuleMatch {
  start: number;
  end: number;
  startToken: number;
  endToken: number;
  label: string;
  score: number;
  rule: number;
  /** For phrases read from a file: the phrase's line. */
  line?: number;
}

/** Reads every file the config names and checks every pattern and regex, reporting all problems at once. */
export function resolveNerRules(cfg: RulesNerConfig, prefix: readonly string[]): NerRuleSet {
  const problems: Problem[] = [];
  const collect = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...problemsOf(e));
      return undefined;
    }
  };
  const phraseLists: PhraseListRule[] = [];
  cfg.phrases.forEach((list, i) => {
    const path = joinPath(prefix, 'phrases', i);
    const rule: PhraseListRule = {
      label: list.label,
      caseSensitive: list.caseSensitive,
      score: list.score,
      path,
      phrases: [...list.phrases],
    };
    const file = list.file;
    if (file !== undefined) {
      const read = collect(() => readPhraseFile(file, joinPath(prefix, 'phrases', i, 'file')));
      if (read) {
        // Inline phrases first (no line), then the file's phrases with their lines.
        rule.file = file;
        rule.lines = [...rule.phrases.map(() => 0), ...read.lines];
        rule.phrases.push(...read.phrases);
      }
    }
    phraseLists.push(rule);
  });
  const patterns: PatternRule[] = [];
  cfg.patterns.forEach((p, i) => {
    const path = joinPath(prefix, 'patterns', i);
    if (typeof p.pattern !== 'string') {
      const specs = p.pattern;
      collect(() => TokenPattern.compile(specs, { path: `${path}.pattern` }));
    }
    patterns.push({ ...p, path });
  });
  cfg.patternFiles.forEach((f, i) => {
    const path = joinPath(prefix, 'patternFiles', i);
    const read = collect(() => readPatternFile(f.file, path, f.score));
    if (read) patterns.push(...read);
  });
  const regexes: RegexRule[] = [];
  cfg.regexes.forEach((r, i) => {
    const path = joinPath(prefix, 'regexes', i);
    collect(() => compileRegexRule({ ...r, path }));
    regexes.push({ ...r, path });
  });
  throwConfigProblems(
    problems,
    'the rules-ner.v1 rules',
    'fix the rules listed above (patterns follow spaCy EntityRuler syntax; regexes are JavaScript)',
  );
  return { phraseMatcherAttr: cfg.phraseMatcherAttr, phraseLists, patterns, regexes, learned: [] };
}

/** Compiles a regex rule to a global regex, checking its capture group exists; ConfigError naming the rule otherwise. */
export function compileRegexRule(rule: RegexRule): RegExp {
  const flags = new Set([...rule.flags, 'g']);
  if (rule.group !== undefined) flags.add('d');
  const re = compileUserRegex(rule.regex, [...flags].join(''), { path: `${rule.path}.regex` });
  if (rule.group !== undefined) {
    const probe = new RegExp(`${rule.regex}|`, rule.flags.replace(/[gy]/g, '')).exec('')!;
    const exists =
      typeof rule.group === 'number'
        ? rule.group < probe.length
        : Object.hasOwn(probe.groups ?? {}, rule.group);
    if (!exists) {
      throw new ConfigError(`regex /${rule.regex}/ has no capture group ${JSON.stringify(rule.group)}`, {
        path: `${rule.path}.group`,
        hint: 'name a group the regex defines, e.g. 1 for the first (…) or a (?<name>…) group',
      });
    }
  }
  return re;
}

interface TrieHit {
  rule: number;
  line?: number;
}

/**
 * The compiled NER rules: phrase lists, literal patterns and learnt phrases in two token tries (case-sensitive
 * and lower-cased), other token patterns in a matcher, and regexes; finds every match and resolves overlaps.
 *
 * @example
 * const engine = NerRuleEngine.compile(resolveNerRules(cfg, []));
 * engine.predict('I love Ann Taylor');
 */
export class NerRuleEngine {
  /** Every rule; its index is its priority (lower wins ties). */
  readonly rules: NerRuleRef[] = [];
  private readonly exact = new TokenTrie<TrieHit>();
  private readonly lower = new TokenTrie<TrieHit>();
  private readonly tokenPatterns: { rule: number; pattern: TokenPattern }[] = [];
  private readonly regexes: { rule: number; re: RegExp; snap: SnapMode; group?: number | string }[] = [];

  private constructor() {}

  /** Builds the matchers; priority: phrase lists, then patterns, then regexes, then learnt phrases, each in config order. */
  static compile(set: NerRuleSet): NerRuleEngine {
    const engine = new NerRuleEngine();
    const key = (words: readonly string[], caseSensitive: boolean) =>
      caseSensitive ? words : words.map((w) => w.toLowerCase());
    for (const list of set.phraseLists) {
      const rule = engine.addRule({
        kind: 'phrase',
        path: list.path,
        label: list.label,
        score: list.score,
        text: `${list.phrases.length} phrase${list.phrases.length === 1 ? '' : 's'}`,
        file: list.file,
      });
      const trie = list.caseSensitive ? engine.exact : engine.lower;
      list.phrases.forEach((phrase, i) => {
        const line = list.lines?.[i];
        const words = tokenize(phrase).map((t) => t.text);
        trie.add(key(words, list.caseSensitive), line ? { rule, line } : { rule });
      });
    }
    for (const p of set.patterns) {
      const rule = engine.addRule({
        kind: 'pattern',
        path: p.path,
        label: p.label,
        score: p.score,
        text: (p.id ? `id=${p.id} ` : '') + JSON.stringify(p.pattern),
        file: p.file,
        line: p.line,
      });
      if (typeof p.pattern === 'string') {
        const caseSensitive = set.phraseMatcherAttr === 'orth';
        const words = tokenize(p.pattern).map((t) => t.text);
        (caseSensitive ? engine.exact : engine.lower).add(key(words, caseSensitive), { rule });
        continue;
      }
      const literal = TokenPattern.literal(p.pattern);
      if (literal) {
        (literal.caseSensitive ? engine.exact : engine.lower).add(literal.words, { rule });
      } else {
        const where = { file: p.file, line: p.line, path: `${p.path}.pattern` };
        engine.tokenPatterns.push({ rule, pattern: TokenPattern.compile(p.pattern, where) });
      }
    }
    for (const r of set.regexes) {
      const rule = engine.addRule({
        kind: 'regex',
        path: r.path,
        label: r.label,
        score: r.score,
        text: `/${r.regex}/${r.flags}`,
      });
      engine.regexes.push({ rule, re: compileRegexRule(r), snap: r.snap, group: r.group });
    }
    set.learned.forEach((l, i) => {
      const rule = engine.addRule({
        kind: 'learned',
        path: `learned.${i}`,
        label: l.label,
        score: l.precision,
        text: `"${l.tokens.join(' ')}" (annotated ${l.annotated} of ${l.occurrences} times in train)`,
      });
      (l.caseSensitive ? engine.exact : engine.lower).add(key(l.tokens, l.caseSensitive), { rule });
    });
    return engine;
  }

  private addRule(ref: NerRuleRef): number {
    if (ref.file === undefined) delete ref.file;
    if (ref.line === undefined) delete ref.line;
    this.rules.push(ref);
    return this.rules.length - 1;
  }

  /** The labels any rule can produce, sorted. */
  labels(): string[] {
    return [...new Set(this.rules.map((r) => r.label))].sort();
  }

  /** Every span any rule matches in `text` (overlapping, unresolved). */
  matches(text: string, tokens: readonly Token[]): NerRuleMatch[] {
    const out: NerRuleMatch[] = [];
    const push = (startToken: number, endToken: number, rule: number, line?: number) => {
      const ref = this.rules[rule]!;
      const m: NerRuleMatch = {
        start: tokens[startToken]!.start,
        end: tokens[endToken - 1]!.end,
        startToken,
        endToken,
        label: ref.label,
        score: ref.score,
        rule,
      };
      if (line !== undefined) m.line = line;
      out.push(m);
    };
    const texts = tokens.map((t) => t.text);
    const lowers = texts.map((t) => t.toLowerCase());
    const view: PatternToken[] = texts.map((t, i) => ({ text: t, lower: lowers[i]! }));
    for (let i = 0; i < tokens.length; i++) {
      const visit = (end: number, hits: readonly TrieHit[]) => {
        for (const h of hits) push(i, end, h.rule, h.line);
      };
      this.exact.matchesAt(texts, i, visit);
      this.lower.matchesAt(lowers, i, visit);
    }
    for (const { rule, pattern } of this.tokenPatterns) {
      const memo = new Map<number, number[]>();
      for (let i = 0; i < tokens.length; i++) {
        for (const end of pattern.matchEnds(view, i, memo)) push(i, end, rule);
      }
    }
    for (const { rule, re, snap, group } of this.regexes) {
      for (const [s, e] of regexTokenRanges(re, text, tokens, snap, group)) push(s, e, rule);
    }
    return out;
  }

  /** The predicted entities of `text`: matches with overlaps resolved, in text order. */
  predict(text: string, tokens: readonly Token[]): PredictedSpan[] {
    return resolveOverlaps(this.matches(text, tokens), tokens.length).map((m) => ({
      start: m.start,
      end: m.end,
      label: m.label,
      score: m.score,
    }));
  }
}

/**
 * Keeps non-overlapping matches: the longest (in tokens) first, then the earlier start, then the rule with the
 * higher priority (lower index); returned in text order.
 */
export function resolveOverlaps(matches: readonly NerRuleMatch[], tokenCount: number): NerRuleMatch[] {
  const order = [...matches].sort(
    (a, b) =>
      b.endToken - b.startToken - (a.endToken - a.startToken) ||
      a.startToken - b.startToken ||
      a.rule - b.rule,
  );
  const taken = new Uint8Array(tokenCount);
  const kept: NerRuleMatch[] = [];
  for (const m of order) {
    let free = true;
    for (let t = m.startToken; t < m.endToken && free; t++) free = taken[t] === 0;
    if (!free) continue;
    taken.fill(1, m.startToken, m.endToken);
    kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}
