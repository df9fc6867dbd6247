/**
 * Annotation: a queue of examples ordered by model uncertainty (active learning) with the model's answers as
 * pre-annotations, saving a batch of annotations as a new dataset version, and agreement between annotators
 * (Cohen's kappa for classes, span F1 for entities) on the items two of them labelled.
 */
import { DataError, SapphireError } from '../core/errors.ts';
import type { DatasetVersion, Store } from '../store/store.ts';
import type { Example, Span, TaskKind } from './types.ts';

/** The operation kind of dataset versions saved by annotators. */
export const ANNOTATE_OPERATION = 'annotate';

/** What a model answered for one text (the shape of a model's `PreAnnotation`, without importing models). */
export interface PreAnnotation {
  labels?: string[];
  scores?: { label: string; score: number }[];
  spans?: (Span & { score: number })[];
}

/** One annotator's answer for one example: classes, or entity spans in character offsets. */
export interface Annotation {
  id: string;
  labels?: string[];
  spans?: Span[];
}

/** One example in the annotation queue. */
export interface QueueItem {
  id: string;
  text: string;
  split: string | null;
  /** 0 (the model is sure) .. 1 (it has no idea); null without a model. */
  uncertainty: number | null;
  /** The model's answer, to accept or correct; null without a model. */
  pre: { labels?: string[]; spans?: (Span & { score: number })[] } | null;
  /** What the dataset holds now. */
  current: { labels?: string[]; spans?: Span[] };
}

/** The annotation queue of one annotator on a dataset. */
export interface AnnotationQueue {
  /** The dataset version the queue was built from (the base of the next save). */
  version: string;
  task: TaskKind;
  labels: string[];
  annotator: string;
  /** Examples in the version. */
  total: number;
  /** Examples this annotator already labelled (in any version of the dataset). */
  done: number;
  /** Not yet labelled by this annotator, most uncertain first. */
  items: QueueItem[];
}

/**
 * How unsure a prediction is, 0..1: for classes 1 − the best probability; for entities the least confident
 * entity's 1 − score (0 when the model found none).
 */
export function uncertaintyOf(task: TaskKind, prediction: PreAnnotation): number {
  if (task === 'ner') {
    const scores = (prediction.spans ?? []).map((s) => s.score);
    return scores.length === 0 ? 0 : 1 - Math.min(...scores);
  }
  const best = prediction.scores?.[0]?.score;
  return best === undefined ? 1 : 1 - best;
}

/** The annotate operations of a dataset's versions: who labelled which ids (oldest first). */
export function annotationsByAnnotator(
  versions: readonly DatasetVersion[],
): Map<string, Map<string, Annotation>> {
  const byAnnotator = new Map<string, Map<string, Annotation>>();
  const oldestFirst = [...versions].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const version of oldestFirst) {
    if (version.operation.kind !== ANNOTATE_OPERATION) continue;
    const annotator = String(version.operation.params.annotator ?? '');
    const list = (version.operation.params.annotations ?? []) as Annotation[];
    const mine = byAnnotator.get(annotator) ?? new Map<string, Annotation>();
    byAnnotator.set(annotator, mine);
    for (const a of list) mine.set(a.id, a);
  }
  return byAnnotator;
}

/** Options of {@link buildQueue}. */
export interface QueueOptions {
  task: TaskKind;
  labels: readonly string[];
  annotator: string;
  /** Predicts the examples (a served model); without it the queue keeps the stored order. */
  predict?: (texts: string[]) => PreAnnotation[] | Promise<PreAnnotation[]>;
  /** Only examples of this split. */
  split?: string;
  /** At most this many items (default 50). */
  limit?: number;
}

/**
 * The annotator's queue on the newest version of dataset `name`: examples they have not labelled yet, most
 * uncertain first (ties keep the stored order), each with the model's answer as a pre-annotation.
 *
 * @example
 * const queue = await buildQueue(store, 'requests', { task: 'classify', labels, annotator: 'ann', predict });
 */
export async function buildQueue(
  store: Store,
  name: string,
  options: QueueOptions,
): Promise<AnnotationQueue> {
  const version = await store.getDatasetVersion(name);
  const examples = await store.loadExamples(version.id);
  const done = annotationsByAnnotator(await store.listDatasetVersions(version.name)).get(options.annotator);
  let open = examples.filter((e) => !done?.has(e.id));
  if (options.split !== undefined) open = open.filter((e) => e.split === options.split);
  const predictions = options.predict ? await options.predict(open.map((e) => e.text)) : null;
  const items: QueueItem[] = open.map((e, i) => {
    const p = predictions?.[i];
    return {
      id: e.id,
      text: e.text,
      split: e.split ?? null,
      uncertainty: p ? uncertaintyOf(options.task, p) : null,
      pre: p ? (options.task === 'ner' ? { spans: p.spans ?? [] } : { labels: p.labels ?? [] }) : null,
      current: options.task === 'ner' ? { spans: e.spans ?? [] } : { labels: e.labels ?? [] },
    };
  });
  const order = items.map((item, i) => ({ item, i }));
  order.sort((a, b) => (b.item.uncertainty ?? 0) - (a.item.uncertainty ?? 0) || a.i - b.i);
  return {
    version: version.id,
    task: options.task,
    labels: [...options.labels],
    annotator: options.annotator,
    total: examples.length,
    done: done?.size ?? 0,
    items: order.slice(0, options.limit ?? 50).map((o) => o.item),
  };
}

function checkAnnotation(
  a: Annotation,
  example: Example | undefined,
  task: TaskKind,
  labels: readonly string[],
  path: string,
): Annotation {
  if (!example) {
    throw new DataError(`example "${a.id}" is not in the dataset version`, {
      path: `${path}.id`,
      hint: 'annotate ids from the queue of the same version',
    });
  }
  const known = (label: string, where: string) => {
    if (labels.length > 0 && !labels.includes(label))
      throw new DataError(`unknown label "${label}"`, {
        path: where,
        hint: `use one of: ${labels.join(', ')}`,
      });
  };
  if (task === 'ner') {
    if (!Array.isArray(a.spans))
      throw new DataError('a ner annotation has spans', { path: `${path}.spans`, hint: 'send [] for none' });
    const spans = a.spans.map((s, i) => {
      const where = `${path}.spans[${i}]`;
      if (
        !Number.isInteger(s.start) ||
        !Number.isInteger(s.end) ||
        s.start < 0 ||
        s.end <= s.start ||
        s.end > example.text.length
      )
        throw new DataError(
          `span ${s.start}..${s.end} is not inside the text (${example.text.length} characters)`,
          {
            path: where,
            exampleId: a.id,
            hint: 'character offsets, end exclusive',
          },
        );
      known(s.label, `${where}.label`);
      return { start: s.start, end: s.end, label: s.label };
    });
    spans.sort((x, y) => x.start - y.start || x.end - y.end);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i]!.start < spans[i - 1]!.end)
        throw new DataError('spans overlap', {
          path: `${path}.spans`,
          exampleId: a.id,
          hint: 'keep one of them',
        });
    }
    return { id: a.id, spans };
  }
  if (!Array.isArray(a.labels) || !a.labels.every((l) => typeof l === 'string'))
    throw new DataError('a class annotation has labels', { path: `${path}.labels`, hint: 'e.g. ["refund"]' });
  if (task === 'classify' && a.labels.length !== 1)
    throw new DataError(`a classify annotation has exactly one label, not ${a.labels.length}`, {
      path: `${path}.labels`,
      exampleId: a.id,
    });
  a.labels.forEach((l, i) => {
    known(l, `${path}.labels[${i}]`);
  });
  return { id: a.id, labels: [...new Set(a.labels)] };
}

/** Input of {@link saveAnnotations}. */
export interface SaveAnnotationsInput {
  /** The version the annotator worked on (the queue's `version`). */
  base: string;
  annotator: string;
  task: TaskKind;
  labels: readonly string[];
  annotations: readonly Annotation[];
}

/**
 * Writes annotations into a copy of the base version's examples (the answer, and under `meta.annotations` every
 * annotator's answer) and stores it as a new version of the dataset (operation `annotate` with the annotator and
 * their answers, so agreement can be computed later). The base must
 * be the newest version: a save on an outdated version is a CONFLICT, so nobody's labels are lost.
 */
export async function saveAnnotations(
  store: Store,
  input: SaveAnnotationsInput,
): Promise<{ version: DatasetVersion; created: boolean }> {
  if (!input.annotator.trim())
    throw new DataError('the annotator is empty', { path: 'annotator', hint: 'send your name' });
  if (input.annotations.length === 0)
    throw new DataError('no annotations to save', {
      path: 'annotations',
      hint: 'label at least one example',
    });
  const base = await store.getDatasetVersion(input.base);
  const newest = await store.getDatasetVersion(base.name);
  if (newest.id !== base.id)
    throw new SapphireError(
      'CONFLICT',
      `${base.id} is not the newest version of ${base.name} (${newest.id} is)`,
      {
        hint: 'reload the queue and label again on the newest version',
      },
    );
  const examples = await store.loadExamples(base.id);
  const byId = new Map(examples.map((e) => [e.id, e]));
  const checked = input.annotations.map((a, i) =>
    checkAnnotation(a, byId.get(a.id), input.task, input.labels, `annotations[${i}]`),
  );
  const answers = new Map(checked.map((a) => [a.id, a]));
  const updated = examples.map((e) => {
    const a = answers.get(e.id);
    if (!a) return e;
    // Each annotator's answer also stays on the example, so a save that confirms the stored labels still makes a
    // new version (content-addressed versions would otherwise dedupe it and lose who labelled what).
    const previous = (e.meta.annotations ?? {}) as Record<string, unknown>;
    const answer = input.task === 'ner' ? { spans: a.spans! } : { labels: a.labels! };
    const meta = { ...e.meta, annotations: { ...previous, [input.annotator]: answer } };
    return { ...e, ...answer, meta };
  });
  return store.putDatasetVersion({
    name: base.name,
    examples: updated,
    parentId: base.id,
    operation: {
      kind: ANNOTATE_OPERATION,
      params: { annotator: input.annotator, annotations: checked },
    },
  });
}

/** Agreement of two annotators on the items both labelled. */
export interface PairAgreement {
  a: string;
  b: string;
  /** Items both labelled. */
  items: number;
  /** Share of those items with the same answer. */
  observed: number | null;
  /** Cohen's kappa (classes; a multilabel answer counts as one category); null for ner or no shared items. */
  kappa: number | null;
  /** Exact-match span F1 of b against a (symmetric); null for classes. */
  spanF1: number | null;
}

const answerKey = (a: Annotation): string => [...(a.labels ?? [])].sort().join('|');

/** Cohen's kappa of two raters' categories over the same items (1 when both use one category throughout). */
export function cohensKappa(a: readonly string[], b: readonly string[]): number {
  const n = a.length;
  if (n === 0 || n !== b.length) return Number.NaN;
  let agree = 0;
  const ca = new Map<string, number>();
  const cb = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    ca.set(a[i]!, (ca.get(a[i]!) ?? 0) + 1);
    cb.set(b[i]!, (cb.get(b[i]!) ?? 0) + 1);
  }
  const po = agree / n;
  let pe = 0;
  for (const [k, v] of ca) pe += (v / n) * ((cb.get(k) ?? 0) / n);
  return pe === 1 ? 1 : (po - pe) / (1 - pe);
}

/** Exact-match span F1 between two annotators' spans over the same items (1 when neither marked anything). */
export function spanAgreementF1(a: readonly Span[][], b: readonly Span[][]): number {
  let tp = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const keys = new Set((a[i] ?? []).map((s) => `${s.start}:${s.end}:${s.label}`));
    na += keys.size;
    nb += (b[i] ?? []).length;
    for (const s of b[i] ?? []) if (keys.has(`${s.start}:${s.end}:${s.label}`)) tp++;
  }
  return na + nb === 0 ? 1 : (2 * tp) / (na + nb);
}

/** Agreement of every pair of annotators of dataset `name` on the items both labelled. */
export async function annotatorAgreement(
  store: Store,
  name: string,
  task: TaskKind,
): Promise<PairAgreement[]> {
  const version = await store.getDatasetVersion(name);
  const by = annotationsByAnnotator(await store.listDatasetVersions(version.name));
  const names = [...by.keys()].sort();
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = by.get(names[i]!)!;
      const b = by.get(names[j]!)!;
      const shared = [...a.keys()].filter((id) => b.has(id));
      const first = shared.map((id) => a.get(id)!);
      const second = shared.map((id) => b.get(id)!);
      const same =
        task === 'ner'
          ? shared.filter((_, k) => spanAgreementF1([first[k]!.spans ?? []], [second[k]!.spans ?? []]) === 1)
              .length
          : shared.filter((_, k) => answerKey(first[k]!) === answerKey(second[k]!)).length;
      pairs.push({
        a: names[i]!,
        b: names[j]!,
        items: shared.length,
        observed: shared.length ? same / shared.length : null,
        kappa:
          task === 'ner' || !shared.length ? null : cohensKappa(first.map(answerKey), second.map(answerKey)),
        spanF1:
          task === 'ner' && shared.length
            ? spanAgreementF1(
                first.map((x) => x.spans ?? []),
                second.map((x) => x.spans ?? []),
              )
            : null,
      });
    }
  }
  return pairs;
}
