import { ConfigError, type Problem } from '../../core/errors.ts';
import type { Example, Token } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import type { LabelScore } from '../model.ts';
import { joinPath, problemsOf, type RulesClassifyConfig, throwConfigProblems } from './rules-config.ts';
import { compileUserRegex } from './token-pattern.ts';
import { TokenTrie } from './token-trie.ts';

/** A hand-written keyword rule with the config field it came from. */
export interface KeywordRule {
  label: string;
  keywords: string[] | { regex: string; flags: string };
  weight: number;
  caseSensitive: boolean;
  path: string;
}

/** A keyword learnt at fit: a lower-cased word whose presence favours `label` by `weight` (its log-odds ratio). */
export interface LearnedKeyword {
  label: string;
  keyword: string;
  weight: number;
  /** The log-odds ratio divided by its standard deviation: how sure the estimate is. */
  z: number;
  /** Training texts of `label` containing the word. */
  count: number;
}

/** Everything a fitted rules-classify.v1 model needs; what its `rules.json` holds. */
export interface KeywordRuleSet {
  rules: KeywordRule[];
  learned: LearnedKeyword[];
  /** Every class, sorted. */
  classes: string[];
  fallback: string;
  defaultScore: number;
  temperature: number;
}

/** One rule as explanations name it. */
export interface KeywordRuleRef {
  kind: 'keywords' | 'regex' | 'learned';
  path: string;
  label: string;
  weight: number;
  text: string;
}

/** A rule that fired on a text, with the keyword (or regex match) that made it fire. */
export interface KeywordMatch {
  rule: number;
  matched: string;
}

/** The rule scores of one text: raw scores per class, probabilities, and the rules that fired. */
export interface KeywordScores {
  /** Sum of fired rule weights per class (plus `defaultScore` for the fallback), in `classes` order. */
  raw: number[];
  /** Every class with its probability, best first. */
  scores: LabelScore[];
  matches: KeywordMatch[];
}

/** The hand-written rules of a config, with their regexes checked (ConfigError naming each bad rule). */
export function resolveKeywordRules(cfg: RulesClassifyConfig, prefix: readonly string[]): KeywordRule[] {
  const problems: Problem[] = [];
  const rules = cfg.rules.map((r, i) => {
    const rule: KeywordRule = { ...r, path: joinPath(prefix, 'rules', i) };
    try {
      compileKeywordRegex(rule);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...problemsOf(e));
    }
    return rule;
  });
  throwConfigProblems(
    problems,
    'the rules-classify.v1 rules',
    'fix the regexes listed above (JavaScript syntax)',
  );
  return rules;
}

function compileKeywordRegex(rule: KeywordRule): RegExp | undefined {
  if (Array.isArray(rule.keywords)) return undefined;
  const flags = rule.keywords.flags + (rule.caseSensitive || rule.keywords.flags.includes('i') ? '' : 'i');
  return compileUserRegex(rule.keywords.regex, flags, { path: `${rule.path}.keywords.regex` });
}

/** The lower-cased word keys of a text used for learning and matching learnt keywords (punctuation skipped). */
export function wordKeys(tokens: readonly Token[]): string[] {
  return tokens.map((t) => t.text.toLowerCase()).filter((w) => /[\p{L}\p{N}]/u.test(w));
}

/**
 * Learns, per class, the words whose presence best separates it from the other classes: the log-odds ratio of
 * a training text containing the word, with a Dirichlet prior, ranked by z-score (Monroe et al., 2008).
 */
export function learnKeywords(
  train: readonly Example[],
  classes: readonly string[],
  opts: { perClass: number; minCount: number; prior: number },
): LearnedKeyword[] {
  const index = new Map(classes.map((c, k) => [c, k]));
  const docs = classes.map(() => 0);
  const df = new Map<string, number[]>();
  for (const ex of train) {
    const k = index.get(ex.labels![0]!)!;
    docs[k]!++;
    for (const w of new Set(wordKeys(ex.tokens ?? tokenize(ex.text)))) {
      let row = df.get(w);
      if (!row) {
        row = classes.map(() => 0);
        df.set(w, row);
      }
      row[k]!++;
    }
  }
  const a = opts.prior;
  const total = docs.reduce((s, n) => s + n, 0);
  const out: LearnedKeyword[] = [];
  classes.forEach((label, k) => {
    const nc = docs[k]!;
    const rest = total - nc;
    const ranked: LearnedKeyword[] = [];
    for (const [keyword, row] of df) {
      const y = row[k]!;
      if (y < opts.minCount) continue;
      const yr = row.reduce((s, n) => s + n, 0) - y;
      const delta = Math.log((y + a) / (nc - y + a)) - Math.log((yr + a) / (rest - yr + a));
      if (!(delta > 0)) continue;
      const variance = 1 / (y + a) + 1 / (nc - y + a) + 1 / (yr + a) + 1 / (rest - yr + a);
      ranked.push({ label, keyword, weight: delta, z: delta / Math.sqrt(variance), count: y });
    }
    ranked.sort((x, y) => y.z - x.z || (x.keyword < y.keyword ? -1 : x.keyword > y.keyword ? 1 : 0));
    out.push(...ranked.slice(0, opts.perClass));
  });
  return out;
}

interface Hit {
  rule: number;
  keyword: string;
}

/**
 * Compiled keyword rules: keywords (phrases, matched on token boundaries) in token tries, regexes, and learnt
 * keywords; scores each class by the weights of the distinct keywords found and normalises with a softmax.
 *
 * @example
 * const engine = KeywordRuleEngine.compile(set);
 * engine.score('I want a refund', tokenize('I want a refund')).scores[0]; // { label: 'refund', score: … }
 */
export class KeywordRuleEngine {
  /** Every rule; learnt keywords come after the hand-written rules. */
  readonly rules: KeywordRuleRef[] = [];
  private readonly exact = new TokenTrie<Hit>();
  private readonly lower = new TokenTrie<Hit>();
  private readonly regexes: { rule: number; re: RegExp }[] = [];
  private readonly classIndex: Map<string, number>;

  private constructor(private readonly set: KeywordRuleSet) {
    this.classIndex = new Map(set.classes.map((c, k) => [c, k]));
  }

  /** Builds the matchers of a rule set. */
  static compile(set: KeywordRuleSet): KeywordRuleEngine {
    const engine = new KeywordRuleEngine(set);
    for (const r of set.rules) {
      const rule = engine.rules.length;
      const re = compileKeywordRegex(r);
      if (re) {
        engine.rules.push({
          kind: 'regex',
          path: r.path,
          label: r.label,
          weight: r.weight,
          text: `/${re.source}/${re.flags}`,
        });
        engine.regexes.push({ rule, re });
        continue;
      }
      const keywords = r.keywords as string[];
      engine.rules.push({
        kind: 'keywords',
        path: r.path,
        label: r.label,
        weight: r.weight,
        text: keywords.join(', '),
      });
      for (const keyword of keywords) {
        const words = tokenize(keyword).map((t) => (r.caseSensitive ? t.text : t.text.toLowerCase()));
        (r.caseSensitive ? engine.exact : engine.lower).add(words, { rule, keyword });
      }
    }
    set.learned.forEach((l, i) => {
      const rule = engine.rules.length;
      engine.rules.push({
        kind: 'learned',
        path: `learned.${i}`,
        label: l.label,
        weight: l.weight,
        text: `"${l.keyword}" (in ${l.count} training texts of ${l.label}, z=${l.z.toFixed(2)})`,
      });
      engine.lower.add([l.keyword], { rule, keyword: l.keyword });
    });
    return engine;
  }

  /** Every class, sorted. */
  get classes(): readonly string[] {
    return this.set.classes;
  }

  /** The class predicted when no rule fires. */
  get fallback(): string {
    return this.set.fallback;
  }

  /** The distinct (rule, keyword) pairs that fire on a text. */
  matches(text: string, tokens: readonly Token[]): KeywordMatch[] {
    const seen = new Set<string>();
    const out: KeywordMatch[] = [];
    const add = (rule: number, matched: string) => {
      const id = `${rule}\u0000${matched}`;
      if (seen.has(id)) return;
      seen.add(id);
      out.push({ rule, matched });
    };
    const texts = tokens.map((t) => t.text);
    const lowers = texts.map((t) => t.toLowerCase());
    for (let i = 0; i < tokens.length; i++) {
      const visit = (_end: number, hits: readonly Hit[]) => {
        for (const h of hits) add(h.rule, h.keyword);
      };
      this.exact.matchesAt(texts, i, visit);
      this.lower.matchesAt(lowers, i, visit);
    }
    for (const { rule, re } of this.regexes) {
      const m = re.exec(text);
      if (m) add(rule, m[0]);
    }
    return out.sort(
      (a, b) => a.rule - b.rule || (a.matched < b.matched ? -1 : a.matched > b.matched ? 1 : 0),
    );
  }

  /** Raw scores, probabilities (softmax of raw scores over the temperature) and fired rules of a text. */
  score(text: string, tokens: readonly Token[]): KeywordScores {
    const { classes, fallback, defaultScore, temperature } = this.set;
    const fallbackIndex = this.classIndex.get(fallback)!;
    const raw = classes.map((_, k) => (k === fallbackIndex ? defaultScore : 0));
    const matches = this.matches(text, tokens);
    for (const m of matches) {
      const rule = this.rules[m.rule]!;
      raw[this.classIndex.get(rule.label)!]! += rule.weight;
    }
    const top = Math.max(...raw);
    const exp = raw.map((s) => Math.exp((s - top) / temperature));
    const sum = exp.reduce((s, e) => s + e, 0);
    const order = [...classes.keys()].sort(
      (a, b) => raw[b]! - raw[a]! || Number(b === fallbackIndex) - Number(a === fallbackIndex) || a - b,
    );
    return { raw, scores: order.map((k) => ({ label: classes[k]!, score: exp[k]! / sum })), matches };
  }
}
