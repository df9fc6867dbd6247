/**
 * `mock.v1`: a model that returns answers written in its config, for testing pipelines around a model (earmarks,
 * behavioural tests, serving, evaluation) without training one. Importing this module registers it.
 *
 * It is ready as soon as it is created: `fit` learns nothing, and `predict` never throws NotFittedError.
 */

import { z } from 'zod';
import type { Example } from '../../data/types.ts';
import { wholeWordOccurrences } from '../../text/whole-words.ts';
import { parseModelConfig } from '../linear/config-parse.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type {
  Explanation,
  FitOptions,
  FitReport,
  Model,
  ModelInput,
  PredictedSpan,
  Prediction,
} from '../model.ts';
import { registerModel } from '../registry.ts';

/** Registered name of the mock model. */
export const MOCK_V1 = 'mock.v1';
/** Format version of saved mock.v1 directories. */
export const MOCK_FORMAT_VERSION = 1;

const score = z.number().min(0).max(1);

/** An answer span: by surface `text` (every whole-word occurrence, or the `occurrence`-th) or by `start`/`end`. */
const mockSpanSchema = z
  .strictObject({
    text: z.string().min(1).optional(),
    occurrence: z.int().min(1).optional(),
    start: z.int().min(0).optional(),
    end: z.int().min(1).optional(),
    label: z.string().regex(/^\S+$/, 'labels cannot be empty or contain spaces'),
    score: score.default(1),
  })
  .superRefine((s, ctx) => {
    const byOffsets = s.start !== undefined || s.end !== undefined;
    if (byOffsets && (s.start === undefined || s.end === undefined))
      ctx.addIssue({ code: 'custom', input: s, message: 'give both start and end' });
    else if (byOffsets && s.start! >= s.end!)
      ctx.addIssue({ code: 'custom', input: s, path: ['start'], message: 'start must be before end' });
    if (byOffsets === (s.text !== undefined))
      ctx.addIssue({
        code: 'custom',
        input: s,
        message: 'give either text (and occurrence) or start and end',
      });
    if (s.occurrence !== undefined && s.text === undefined)
      ctx.addIssue({ code: 'custom', input: s, path: ['occurrence'], message: 'occurrence needs text' });
  });

const mockOutputFields = {
  /** Classification: the labels to return. */
  labels: z.array(z.string().min(1)).optional(),
  /** Classification: the confidence of each returned label (default 1). */
  score: score.default(1),
  /** NER: the entities to return. */
  spans: z.array(mockSpanSchema).optional(),
};

/** Config of mock.v1. */
export const mockConfigSchema = z
  .strictObject({
    task: z.enum(['ner', 'classify', 'multilabel']).default('ner'),
    /** Answers for exact texts. */
    answers: z.array(z.strictObject({ text: z.string(), ...mockOutputFields })).default(() => []),
    /** The answer for every other text (spans by text apply wherever that text occurs). */
    default: z.strictObject(mockOutputFields).prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const outputs = [
      ...cfg.answers.map((a, i) => ({ output: a, path: ['answers', i] as (string | number)[] })),
      { output: cfg.default, path: ['default'] as (string | number)[] },
    ];
    for (const { output, path } of outputs) {
      if (cfg.task === 'ner' && output.labels !== undefined)
        ctx.addIssue({
          code: 'custom',
          input: output,
          path: [...path, 'labels'],
          message: 'a ner mock returns spans, not labels',
        });
      if (cfg.task !== 'ner' && output.spans !== undefined)
        ctx.addIssue({
          code: 'custom',
          input: output,
          path: [...path, 'spans'],
          message: `a ${cfg.task} mock returns labels, not spans`,
        });
      if (cfg.task === 'classify' && output.labels !== undefined && output.labels.length !== 1)
        ctx.addIssue({
          code: 'custom',
          input: output,
          path: [...path, 'labels'],
          message: 'a classify mock returns exactly one label',
        });
    }
    const seen = new Map<string, number>();
    cfg.answers.forEach((a, i) => {
      const first = seen.get(a.text);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          input: a.text,
          path: ['answers', i, 'text'],
          message: `the same text as answers.${first}`,
        });
      else seen.set(a.text, i);
    });
  });

type MockConfig = z.output<typeof mockConfigSchema>;
type MockOutput = MockConfig['default'];

/**
 * Returns the answers of its config: for a text listed in `answers` its labels or spans, for any other text the
 * `default` (spans given by surface text are found wherever they occur); confidences are 1 unless given.
 *
 * Conformance: save → load gives identical predictions, batch equals one-by-one and the same seed gives the same
 * model hold; "predict before fit fails" and "overfits a tiny training set" do not apply, since a mock is ready
 * from its config and learns nothing.
 *
 * @example
 * const model = new MockModel({ task: 'ner', answers: [{ text: 'Nike shoes', spans: [{ text: 'Nike', label: 'BRAND' }] }] });
 * model.predict([{ text: 'Nike shoes' }])[0]?.spans; // [{ start: 0, end: 4, label: 'BRAND', score: 1 }]
 */
export class MockModel implements Model {
  readonly name = MOCK_V1;
  readonly task: MockConfig['task'];
  private readonly cfg: MockConfig;
  private readonly byText: Map<string, MockOutput>;

  /** A ready model; throws ConfigError for an invalid config. */
  constructor(config: Record<string, unknown> = {}) {
    this.cfg = parseModelConfig(mockConfigSchema, config, MOCK_V1);
    this.task = this.cfg.task;
    this.byText = new Map(this.cfg.answers.map((a) => [a.text, a]));
  }

  /** Loads a directory written by {@link MockModel.save}. */
  static async load(dir: string): Promise<MockModel> {
    const manifest = await readManifest(dir, MOCK_V1, MOCK_FORMAT_VERSION);
    return new MockModel(manifest.config);
  }

  /** The filled configuration (the answers included). */
  config(): Record<string, unknown> {
    return structuredClone(this.cfg) as unknown as Record<string, unknown>;
  }

  /** Learns nothing: the answers come from the config. */
  async fit(train: Example[], _dev?: Example[], _options?: FitOptions): Promise<FitReport> {
    return { epochs: 0, info: { examples: train.length, answers: this.cfg.answers.length } };
  }

  /** The configured answer of each input. */
  predict(inputs: ModelInput[]): Prediction[] {
    return inputs.map((input) => this.answer(input.text));
  }

  /** Every returned label or entity is explained by the mock answer that produced it. */
  explain(input: ModelInput, _topK = 10): Explanation[] {
    const p = this.answer(input.text);
    const targets =
      this.task === 'ner'
        ? (p.spans ?? []).map((s) => ({
            target: `${s.label} ${input.text.slice(s.start, s.end)}`,
            score: s.score,
          }))
        : (p.scores ?? []).map((s) => ({ target: s.label, score: s.score }));
    const source = this.byText.has(input.text) ? 'mock answer' : 'mock default';
    return targets.map((t) => ({ target: t.target, contributions: [{ feature: source, weight: t.score }] }));
  }

  /** Writes `model.json` (the config holds every answer). */
  async save(dir: string): Promise<void> {
    await writeManifest(dir, {
      architecture: MOCK_V1,
      formatVersion: MOCK_FORMAT_VERSION,
      config: this.config(),
      labels: this.labels(),
    });
  }

  private labels(): string[] {
    const labels = new Set<string>();
    for (const out of [...this.cfg.answers, this.cfg.default]) {
      for (const l of out.labels ?? []) labels.add(l);
      for (const s of out.spans ?? []) labels.add(s.label);
    }
    return [...labels].sort();
  }

  private answer(text: string): Prediction {
    const out = this.byText.get(text) ?? this.cfg.default;
    if (this.task !== 'ner') {
      const labels = [...(out.labels ?? [])];
      return { labels, scores: labels.map((label) => ({ label, score: out.score })) };
    }
    const spans: PredictedSpan[] = [];
    for (const s of out.spans ?? []) {
      if (s.start !== undefined && s.end !== undefined) {
        if (s.end <= text.length) spans.push({ start: s.start, end: s.end, label: s.label, score: s.score });
        continue;
      }
      const starts = wholeWordOccurrences(text, s.text!);
      const picked = s.occurrence !== undefined ? starts.slice(s.occurrence - 1, s.occurrence) : starts;
      for (const start of picked)
        spans.push({ start, end: start + s.text!.length, label: s.label, score: s.score });
    }
    spans.sort((a, b) => a.start - b.start || a.end - b.end);
    return { spans };
  }
}

registerModel(MOCK_V1, {
  description: 'Test double: returns the labels or entities written in its config, for testing pipelines',
  create: (config) => new MockModel(config),
  load: (dir) => MockModel.load(dir),
});
