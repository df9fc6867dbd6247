import type { z } from 'zod';
import { ConfigError, type Problem } from '../../core/errors.ts';

/**
 * Validates `input` against a strict zod schema and returns the filled config, or throws a
 * ConfigError naming every bad field path (unknown keys included), prefixed by `where`.
 */
export function parseModelConfig<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: [...base, key].join('.'), message: `unknown key "${key}"` });
      }
    } else {
      problems.push({ path: base.join('.') || '(root)', message: issue.message });
    }
  }
  const first = problems[0]!;
  const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new ConfigError(`invalid ${where} config: ${text}`, {
    path: first.path,
    problems,
    hint: `fix the field${problems.length > 1 ? 's' : ''} named above; see the ${where} config reference for allowed values`,
  });
}
