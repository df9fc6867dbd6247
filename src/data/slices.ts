import { z } from 'zod';
import { type ConfigPath, validateConfig } from '../core/config.ts';
import { tokenize } from '../text/tokenizer.ts';
import type { Example } from './types.ts';

/** An inclusive size range; at least one bound is given. */
export interface SizeRange {
  min?: number;
  max?: number;
}

/** A test on one metadata field: equal to a value, one of several values, or present/absent. */
export interface MetaCondition {
  /** Field name in `example.meta`; a dotted name reaches into nested objects when no such key exists. */
  field: string;
  equals?: MetaValue;
  in?: MetaValue[];
  exists?: boolean;
}

/** A scalar a metadata field can be compared with. */
export type MetaValue = string | number | boolean | null;

/**
 * A condition on an example; when several keys are given, all of them must hold.
 *
 * @example
 * const cond: SliceCondition = { all: [{ tokens: { max: 6 } }, { not: { label: 'BRAND' } }] };
 */
export interface SliceCondition {
  /** Number of tokens (the example's own tokens, else the tokenizer's). */
  tokens?: SizeRange;
  /** Number of characters (Unicode code points) in the text. */
  chars?: SizeRange;
  /** The example has a span or a class label with this label. */
  label?: string;
  meta?: MetaCondition;
  /** A regular expression searched in the text. */
  regex?: string;
  /** Flags for `regex` (any of i, m, s, u, v). */
  flags?: string;
  all?: SliceCondition[];
  any?: SliceCondition[];
  not?: SliceCondition;
}

/** A named data slice: a subset of examples picked by a condition. */
export interface SliceDefinition {
  name: string;
  description?: string;
  where: SliceCondition;
}

const CONDITION_KEYS = ['tokens', 'chars', 'label', 'meta', 'regex', 'all', 'any', 'not'] as const;
const REGEX_FLAGS = /^[imsuv]*$/;

const sizeRangeSchema = z
  .strictObject({ min: z.int().min(0).optional(), max: z.int().min(0).optional() })
  .superRefine((r, ctx) => {
    if (r.min === undefined && r.max === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give min, max or both', input: r });
    } else if (r.min !== undefined && r.max !== undefined && r.min > r.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['min'],
        message: `min (${r.min}) is larger than max (${r.max})`,
        input: r,
      });
    }
  });

const metaValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const metaConditionSchema = z
  .strictObject({
    field: z.string().min(1),
    equals: metaValueSchema.optional(),
    in: z.array(metaValueSchema).min(1).optional(),
    exists: z.boolean().optional(),
  })
  .superRefine((m, ctx) => {
    const given = (['equals', 'in', 'exists'] as const).filter((k) => m[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? 'give one of equals, in or exists'
            : `give only one of equals, in or exists (found ${given.join(', ')})`,
        input: m,
      });
    }
  });

/** Zod schema of a slice condition (recursive through `all`, `any` and `not`). */
export const sliceConditionSchema: z.ZodType<SliceCondition> = z.lazy(() =>
  z
    .strictObject({
      tokens: sizeRangeSchema.optional(),
      chars: sizeRangeSchema.optional(),
      label: z.string().min(1).optional(),
      meta: metaConditionSchema.optional(),
      regex: z.string().min(1).optional(),
      flags: z.string().optional(),
      all: z.array(sliceConditionSchema).min(1).optional(),
      any: z.array(sliceConditionSchema).min(1).optional(),
      not: sliceConditionSchema.optional(),
    })
    .superRefine((c, ctx) => {
      if (!CONDITION_KEYS.some((k) => c[k] !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          message: `an empty condition; give at least one of ${CONDITION_KEYS.join(', ')}`,
          input: c,
        });
      }
      if (c.flags !== undefined && c.regex === undefined) {
        ctx.addIssue({ code: 'custom', path: ['flags'], message: 'flags only apply to a regex', input: c });
      }
      if (c.flags !== undefined && !REGEX_FLAGS.test(c.flags)) {
        ctx.addIssue({
          code: 'custom',
          path: ['flags'],
          message: `unsupported regex flags "${c.flags}"; use any of i, m, s, u, v`,
          input: c,
        });
      } else if (c.regex !== undefined) {
        try {
          new RegExp(c.regex, c.flags);
        } catch (e) {
          ctx.addIssue({
            code: 'custom',
            path: ['regex'],
            message: `invalid regular expression /${c.regex}/${c.flags ?? ''}: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`,
            input: c,
          });
        }
      }
    }),
);

/** Zod schema of one slice definition: `{ name, description?, where }`. */
export const sliceDefinitionSchema: z.ZodType<SliceDefinition> = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
      'slice names use letters, digits, "-", "_" and "." (e.g. has-brand)',
    ),
  description: z.string().optional(),
  where: sliceConditionSchema,
});

/** Zod schema of a list of slices whose names are unique. */
export const slicesSchema = z.array(sliceDefinitionSchema).superRefine((defs, ctx) => {
  const seen = new Map<string, number>();
  defs.forEach((d, i) => {
    const first = seen.get(d.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: `duplicate slice name "${d.name}" (already used by slices.${first})`,
        input: d.name,
      });
    } else seen.set(d.name, i);
  });
});

/** Calls `visit` on a condition and each condition nested in it, with its path relative to `cond` (tolerates malformed input). */
export function forEachCondition(
  cond: SliceCondition,
  visit: (c: SliceCondition, path: ConfigPath) => void,
  path: ConfigPath = [],
): void {
  if (typeof cond !== 'object' || cond === null) return;
  visit(cond, path);
  for (const key of ['all', 'any'] as const) {
    const subs = cond[key];
    if (!Array.isArray(subs)) continue;
    subs.forEach((c, i) => {
      forEachCondition(c, visit, [...path, key, i]);
    });
  }
  if (cond.not) forEachCondition(cond.not, visit, [...path, 'not']);
}

/** An example with its derived measures (token and character counts) computed at most once, shared by all slices. */
export interface ExampleView {
  example: Example;
  tokenCount(): number;
  charCount(): number;
}

function viewOf(example: Example): ExampleView {
  let tokens: number | undefined;
  let chars: number | undefined;
  return {
    example,
    tokenCount: () => {
      tokens ??= example.tokens?.length ?? tokenize(example.text).length;
      return tokens;
    },
    charCount: () => {
      if (chars === undefined) {
        chars = 0;
        for (const _ of example.text) chars++;
      }
      return chars;
    },
  };
}

type ViewPredicate = (v: ExampleView) => boolean;

/** A compiled slice: its definition and a predicate telling whether an example belongs to it. */
export interface CompiledSlice {
  name: string;
  description?: string;
  definition: SliceDefinition;
  /** True when the example is in the slice. */
  test(example: Example): boolean;
  /** Same as `test`, reusing measures already computed for the example. */
  testView(view: ExampleView): boolean;
}

function inRange(n: number, r: SizeRange): boolean {
  return (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max);
}

/** Equality that also matches a value with its text form (`2021` equals `"2021"`), as CSV metadata is text. */
function metaEquals(actual: unknown, expected: MetaValue): boolean {
  if (actual === expected) return true;
  if (actual === null || expected === null || actual === undefined) return false;
  const t = typeof actual;
  if (t !== 'string' && t !== 'number' && t !== 'boolean') return false;
  return String(actual) === String(expected);
}

function metaValue(meta: Record<string, unknown> | undefined, field: string): unknown {
  if (!meta) return undefined;
  if (Object.hasOwn(meta, field)) return meta[field];
  let cur: unknown = meta;
  for (const part of field.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function compileMeta(m: MetaCondition): ViewPredicate {
  const matchOne = (v: unknown): boolean => {
    if (m.equals !== undefined) return metaEquals(v, m.equals);
    if (m.in !== undefined) return m.in.some((x) => metaEquals(v, x));
    return false;
  };
  return ({ example }) => {
    const v = metaValue(example.meta, m.field);
    if (m.exists !== undefined) return (v !== undefined && v !== null) === m.exists;
    return Array.isArray(v) ? v.some(matchOne) : matchOne(v);
  };
}

function compileCondition(c: SliceCondition): ViewPredicate {
  const parts: ViewPredicate[] = [];
  if (c.tokens) {
    const r = c.tokens;
    parts.push((v) => inRange(v.tokenCount(), r));
  }
  if (c.chars) {
    const r = c.chars;
    parts.push((v) => inRange(v.charCount(), r));
  }
  if (c.label !== undefined) {
    const label = c.label;
    parts.push(
      ({ example }) =>
        (example.spans?.some((s) => s.label === label) ?? false) ||
        (example.labels?.includes(label) ?? false),
    );
  }
  if (c.meta) parts.push(compileMeta(c.meta));
  if (c.regex !== undefined) {
    const re = new RegExp(c.regex, (c.flags ?? '').replace(/[gy]/g, ''));
    parts.push(({ example }) => re.test(example.text));
  }
  if (c.all) {
    const subs = c.all.map(compileCondition);
    parts.push((v) => subs.every((p) => p(v)));
  }
  if (c.any) {
    const subs = c.any.map(compileCondition);
    parts.push((v) => subs.some((p) => p(v)));
  }
  if (c.not) {
    const sub = compileCondition(c.not);
    parts.push((v) => !sub(v));
  }
  if (parts.length === 1) return parts[0]!;
  return (v) => parts.every((p) => p(v));
}

/**
 * Validates slice definitions and compiles each into a predicate (regexes compiled once).
 *
 * @example
 * const [short] = compileSlices([{ name: 'short', where: { tokens: { max: 6 } } }]);
 * short.test({ id: 'a', text: 'red shoes', meta: {} }); // true
 */
export function compileSlices(defs: readonly SliceDefinition[]): CompiledSlice[] {
  const { slices } = validateConfig(
    z.strictObject({ slices: slicesSchema }),
    { slices: defs },
    {
      hint: 'fix the slice definitions (the `slices` section of sapphire.yaml)',
    },
  );
  return slices.map((definition) => {
    const predicate = compileCondition(definition.where);
    return {
      name: definition.name,
      ...(definition.description !== undefined ? { description: definition.description } : {}),
      definition,
      test: (example: Example) => predicate(viewOf(example)),
      testView: predicate,
    };
  });
}

function asCompiled(slices: readonly SliceDefinition[] | readonly CompiledSlice[]): readonly CompiledSlice[] {
  return slices.length > 0 && 'testView' in slices[0]!
    ? (slices as readonly CompiledSlice[])
    : compileSlices(slices as readonly SliceDefinition[]);
}

/**
 * Works out which examples fall in each slice: slice name → ids of its examples, in input order.
 *
 * Every slice appears in the map, with an empty list when no example matches.
 *
 * @example
 * sliceMembership(examples, card.slices).get('short'); // ['ex1', 'ex7']
 */
export function sliceMembership(
  examples: Iterable<Example>,
  slices: readonly SliceDefinition[] | readonly CompiledSlice[],
): Map<string, string[]> {
  const compiled = asCompiled(slices);
  const members = new Map<string, string[]>(compiled.map((s) => [s.name, []]));
  for (const example of examples) {
    const view = viewOf(example);
    for (const s of compiled) if (s.testView(view)) members.get(s.name)!.push(example.id);
  }
  return members;
}

/** The examples that belong to one slice, in input order. */
export function examplesInSlice(
  examples: Iterable<Example>,
  slice: SliceDefinition | CompiledSlice,
): Example[] {
  const compiled = 'testView' in slice ? slice : compileSlices([slice])[0]!;
  const out: Example[] = [];
  for (const example of examples) if (compiled.test(example)) out.push(example);
  return out;
}
