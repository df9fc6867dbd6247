import { readFileSync } from 'node:fs';
import { ConfigError, type Problem } from '../../core/errors.ts';
import type { PatternRule } from './ner-rule-set.ts';
import {
  entityPatternSchema,
  parseConfigAt,
  problemsOf,
  RULES_NER_V1,
  throwConfigProblems,
} from './rules-config.ts';
import { TokenPattern } from './token-pattern.ts';

/** Reads a rule file named by the config field `path`, with a ConfigError naming that field when it is unreadable. */
export function readRuleFile(file: string, path: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError(`${missing ? 'cannot find' : 'cannot read'} the rule file ${file}`, {
      path,
      hint: 'check the path; relative paths are resolved from the working directory',
      cause: String(e),
    });
  }
}

/** The phrases of a phrase-list file (one per line, trimmed, blank lines skipped) with their 1-based lines. */
export function readPhraseFile(file: string, path: string): { phrases: string[]; lines: number[] } {
  const phrases: string[] = [];
  const lines: number[] = [];
  readRuleFile(file, path)
    .split('\n')
    .forEach((raw, i) => {
      const phrase = raw.trim();
      if (phrase === '') return;
      phrases.push(phrase);
      lines.push(i + 1);
    });
  return { phrases, lines };
}

const patternLineSchema = entityPatternSchema.omit({ score: true });

/**
 * Reads a spaCy EntityRuler JSONL patterns file; every bad line (invalid JSON, unknown key, unknown token
 * attribute, bad regex) is reported with its file:line in one ConfigError.
 */
export function readPatternFile(file: string, path: string, score: number): PatternRule[] {
  const rules: PatternRule[] = [];
  const problems: Problem[] = [];
  readRuleFile(file, path)
    .split('\n')
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '') return;
      try {
        let value: unknown;
        try {
          value = JSON.parse(raw);
        } catch (e) {
          throw new ConfigError(`invalid JSON: ${(e as Error).message}`, { file, line });
        }
        const parsed = parseConfigAt(patternLineSchema, value, [], RULES_NER_V1, { file, line });
        if (typeof parsed.pattern !== 'string') TokenPattern.compile(parsed.pattern, { file, line });
        rules.push({ ...parsed, score, path, file, line });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...problemsOf(e).map((p) => ({ ...p, file, line })));
      }
    });
  throwConfigProblems(
    problems,
    file,
    `fix the listed lines of ${file}: each line is {"label": …, "pattern": "phrase" or [token specs]}`,
  );
  return rules;
}
