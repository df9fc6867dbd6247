import type { z } from 'zod';
import { ConfigError, type Problem } from '../../core/errors.ts';

type Issue = z.core.$ZodIssue;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `"${value}"` : typeof value === 'object' ? 'an object' : String(value);
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function issueMessage(issue: Issue, input: unknown): string {
  switch (issue.code) {
    case 'too_small': {
      const op = issue.inclusive ? '>=' : '>';
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must have length ${op} ${issue.minimum}`
        : `must be ${op} ${issue.minimum}`;
    }
    case 'too_big': {
      const op = issue.inclusive ? '<=' : '<';
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must have length ${op} ${issue.maximum}`
        : `must be ${op} ${issue.maximum}`;
    }
    case 'invalid_type': {
      const got = valueAt(input, issue.path);
      const expected = issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`;
      return `must be ${expected} (got ${describe(got)})`;
    }
    case 'invalid_value':
      return `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

/**
 * Validates a model config against a strict zod schema and returns it filled with defaults, or throws a
 * ConfigError listing every problem with its field path (`model.C must be > 0`).
 */
export function parseModelConfig<S extends z.ZodType>(
  schema: S,
  raw: Record<string, unknown>,
  architecture: string,
  prefix = 'model',
): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems: Problem[] = result.error.issues.flatMap((issue): Problem[] => {
    const at = [prefix, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...at, key].join('.'), message: 'is not a known field' }));
    }
    return [{ path: at.join('.'), message: issueMessage(issue, raw) }];
  });
  const first = problems[0]!;
  const more =
    problems.length > 1
      ? `; also ${problems
          .slice(1)
          .map((p) => `${p.path} ${p.message}`)
          .join('; ')}`
      : '';
  const error = new ConfigError(`${first.path} ${first.message}${more}`, {
    problems,
    hint: `fix the ${architecture} config (every field and its range is in the architecture's docs)`,
  });
  // The path goes in after construction so the message reads `model.C must be > 0`, not `field model.C: …`.
  error.details.path = first.path;
  throw error;
}
