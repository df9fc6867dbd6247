/**
 * Feedback corrections as training data: each correction of a served prediction becomes an example, and the
 * accepted ones of a model are stored as a new dataset version for retraining.
 */
import { NotFoundError, type Problem, SapphireError } from '../core/errors.ts';
import type { Example, Span, TaskKind } from '../data/types.ts';
import { validateExamplesIndexed } from '../data/validate.ts';
import { checkDatasetName } from '../store/ids.ts';
import { DEFAULT_TENANT, type Feedback, type FeedbackStatus } from '../store/serving-store.ts';
import type { DatasetVersion, Store } from '../store/store.ts';
import { tokenize } from '../text/tokenizer.ts';

/** Result of {@link correctionsToExamples}: the examples made, and why the other corrections were left out. */
export interface CorrectionExamples {
  examples: Example[];
  /** One per correction left out; each message starts with `feedback <id>:`. */
  problems: Problem[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The corrected labels, or a problem message. */
function correctedLabels(correction: Record<string, unknown>, task: TaskKind): string[] | string {
  const labels = correction.labels;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string' && l.trim() !== ''))
    return `the correction needs "labels": a list of class names (got ${JSON.stringify(correction)})`;
  if (task === 'classify' && labels.length !== 1)
    return `the task is classify, so the correction needs exactly one label (got ${labels.length})`;
  if (new Set(labels).size !== labels.length)
    return `the correction lists a label twice (${labels.join(', ')})`;
  return labels as string[];
}

/** The corrected spans checked against the text (offsets in range, non-overlapping), or a problem message. */
function correctedSpans(correction: Record<string, unknown>, text: string): Span[] | string {
  const spans = correction.spans;
  if (!Array.isArray(spans))
    return `the correction needs "spans": a list of {start, end, label} (got ${JSON.stringify(correction)})`;
  const out: Span[] = [];
  for (const [i, s] of spans.entries()) {
    if (!isRecord(s) || typeof s.label !== 'string' || s.label.trim() === '')
      return `span ${i} needs a label (got ${JSON.stringify(s)})`;
    const { start, end } = s;
    if (!Number.isInteger(start) || !Number.isInteger(end))
      return `span ${i} '${s.label}' needs integer character offsets (got ${JSON.stringify(s)})`;
    const a = start as number;
    const b = end as number;
    if (a < 0 || b > text.length || b <= a)
      return `span ${i} [${a}, ${b}) '${s.label}' is outside the text (length ${text.length}) or empty`;
    out.push({ start: a, end: b, label: s.label });
  }
  out.sort((x, y) => x.start - y.start || x.end - y.end);
  for (let i = 1; i < out.length; i++) {
    const p = out[i - 1]!;
    const q = out[i]!;
    if (q.start < p.end)
      return `spans [${p.start}, ${p.end}) '${p.label}' and [${q.start}, ${q.end}) '${q.label}' overlap`;
  }
  return out;
}

/**
 * Turns feedback corrections into training examples: one per feedback with a correction and a text (id
 * `fb-<feedback id>`, split `train`, `meta.feedback` = the feedback id). classify/multilabel use
 * `correction.labels`; ner uses `correction.spans` (checked against the text) with tokens from the tokenizer.
 * Feedback without a correction is skipped silently; a correction that cannot be used is a problem naming the id.
 *
 * @example
 * const { examples, problems } = correctionsToExamples(await store.feedback.listFeedback({ tenant, status: 'accepted' }), 'ner');
 */
export function correctionsToExamples(feedback: readonly Feedback[], task: TaskKind): CorrectionExamples {
  const examples: Example[] = [];
  const problems: Problem[] = [];
  for (const f of feedback) {
    if (f.correction === null || f.correction === undefined) continue;
    const exampleId = `fb-${f.id}`;
    const problem = (message: string) => problems.push({ message: `feedback ${f.id}: ${message}` });
    if (typeof f.text !== 'string' || f.text.trim() === '') {
      problem('has a correction but no text (its request was not logged); it cannot be used for training');
      continue;
    }
    if (!isRecord(f.correction)) {
      problem(`the correction is not an object (got ${JSON.stringify(f.correction)})`);
      continue;
    }
    const meta: Record<string, unknown> = {
      feedback: f.id,
      requestId: f.requestId,
      item: f.item,
      model: f.model,
      version: f.version,
    };
    const example: Example = { id: exampleId, text: f.text, split: 'train', meta };
    if (task === 'ner') {
      const spans = correctedSpans(f.correction, f.text);
      if (typeof spans === 'string') {
        problem(spans);
        continue;
      }
      example.tokens = tokenize(f.text);
      example.spans = spans;
    } else {
      const labels = correctedLabels(f.correction, task);
      if (typeof labels === 'string') {
        problem(labels);
        continue;
      }
      example.labels = labels;
    }
    examples.push(example);
  }
  // The shared checks (token boundaries, duplicate ids…) catch what is left; such examples are left out too.
  const invalid = validateExamplesIndexed(examples, { task });
  if (invalid.length === 0) return { examples, problems };
  const bad = new Set(invalid.map((p) => p.index));
  for (const { index, problem } of invalid) {
    const id = examples[index]!.meta.feedback as string;
    problems.push({ message: `feedback ${id}: ${problem.message}` });
  }
  return { examples: examples.filter((_, i) => !bad.has(i)), problems };
}

/** Options for {@link exportCorrections}. */
export interface ExportCorrectionsOptions {
  store: Store;
  tenant: string;
  /** Registered model name whose feedback is exported. */
  model: string;
  task: TaskKind;
  /** Dataset name (default `<model>-feedback`, `<tenant>-<model>-feedback` for tenants other than `default`). */
  name?: string;
  /** Review status of the feedback to export (default `accepted`). */
  status?: FeedbackStatus;
}

/** Result of {@link exportCorrections}. */
export interface ExportCorrectionsResult {
  version: DatasetVersion;
  /** False when identical content was already stored under this name. */
  created: boolean;
  /** Examples in the version. */
  count: number;
  /** Corrections left out, each naming its feedback id. */
  problems: Problem[];
}

/**
 * Stores a model's feedback corrections (accepted ones by default) as a new version of the dataset
 * `<model>-feedback` (prefixed with the tenant for tenants other than `default`, so tenants never share one; its parent: the newest earlier version). NOT_FOUND with a hint when there is nothing to
 * export; DATA_INVALID listing the problems when no correction can be used.
 *
 * @example
 * const { version, count } = await exportCorrections({ store, tenant: 'default', model: 'shop-ner', task: 'ner' });
 */
export async function exportCorrections(options: ExportCorrectionsOptions): Promise<ExportCorrectionsResult> {
  const { store, tenant, model, task } = options;
  const status = options.status ?? 'accepted';
  const name = options.name ?? `${tenant === DEFAULT_TENANT ? '' : `${tenant}-`}${model}-feedback`;
  checkDatasetName(name);
  const feedback = await store.feedback.listFeedback({ tenant, model, status, withCorrection: true });
  const withCorrection = feedback
    .filter((f) => f.correction !== null && f.correction !== undefined)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  if (withCorrection.length === 0) {
    throw new NotFoundError(`no ${status} feedback with a correction for model ${model} (tenant ${tenant})`, {
      hint:
        status === 'accepted'
          ? 'review corrections with `sapphire feedback ls --model <name>` and accept them with `sapphire feedback accept <id…>`'
          : 'list feedback with `sapphire feedback ls` to see what there is',
    });
  }
  const { examples, problems } = correctionsToExamples(withCorrection, task);
  if (examples.length === 0) {
    throw new SapphireError(
      'DATA_INVALID',
      `none of the ${withCorrection.length} ${status} corrections of ${model} can be used:\n  ${problems
        .slice(0, 5)
        .map((p) => p.message)
        .join('\n  ')}`,
      {
        problems,
        hint: 'reject the broken feedback with `sapphire feedback reject <id…>` (corrections must fit the logged text)',
      },
    );
  }
  const previous = await store.listDatasetVersions(name);
  const { version, created } = await store.putDatasetVersion({
    name,
    examples,
    parentId: previous[0]?.id ?? null,
    operation: {
      kind: 'feedback',
      params: {
        tenant,
        model,
        status,
        feedback: examples.map((e) => e.meta.feedback),
        skipped: problems.length,
      },
    },
  });
  return { version, created, count: examples.length, problems };
}
