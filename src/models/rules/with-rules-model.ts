import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, SapphireError } from '../../core/errors.ts';
import type { Example, TaskKind } from '../../data/types.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type {
  Explanation,
  FitOptions,
  FitReport,
  LabelScore,
  Model,
  ModelInput,
  PredictedSpan,
  Prediction,
} from '../model.ts';
import { createModel, loadModel, MODEL_MANIFEST } from '../registry.ts';
import { RulesClassifyModel } from './rules-classify-model.ts';
import { parseConfigAt, WITH_RULES_V1, type WithRulesConfig, withRulesConfigSchema } from './rules-config.ts';
import { RulesNerModel } from './rules-ner-model.ts';

/** Format version of saved with-rules.v1 directories. */
export const WITH_RULES_FORMAT_VERSION = 1;
/** Sub-folder of a saved with-rules.v1 directory holding the wrapped model. */
export const WRAPPED_MODEL_DIR = 'model';
/** Sub-folder of a saved with-rules.v1 directory holding the rules model. */
export const RULES_MODEL_DIR = 'rules';

/** The two parts of a with-rules model, when they already exist (used by `load`). */
export interface WithRulesParts {
  model: Model;
  rules: RulesNerModel | RulesClassifyModel;
}

function overlaps(a: PredictedSpan, b: PredictedSpan): boolean {
  return a.start < b.end && b.start < a.end;
}

function byPosition(a: PredictedSpan, b: PredictedSpan): number {
  return a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
}

/**
 * Combines NER spans of a model and of rules: `override` keeps every rule span and drops model spans that
 * overlap one; `fill` keeps every model span and adds rule spans that overlap none.
 */
export function combineSpans(
  modelSpans: readonly PredictedSpan[],
  ruleSpans: readonly PredictedSpan[],
  mode: 'override' | 'fill',
): PredictedSpan[] {
  const [winners, others] = mode === 'override' ? [ruleSpans, modelSpans] : [modelSpans, ruleSpans];
  return [...winners, ...others.filter((o) => !winners.some((w) => overlaps(o, w)))].sort(byPosition);
}

/**
 * Wraps any registered model with rules (rules-ner.v1 for NER models, rules-classify.v1 for classifiers).
 * NER: `override` lets rule spans replace overlapping model spans, `fill` adds rule spans only where the model
 * found nothing overlapping. Classification: the rules decide when one of them fired and their top probability
 * reaches `ruleThreshold` (in `fill` mode, only when the model's top probability is also below
 * `modelThreshold`). Saved as `model.json` plus the two parts in `model/` and `rules/`.
 *
 * @example
 * const model = createModel('with-rules.v1', {
 *   model: { architecture: 'crf.v1', c2: 0.01 },
 *   rules: { patternFiles: ['patterns.jsonl'] },
 *   mode: 'override',
 * });
 */
export class WithRulesModel implements Model {
  readonly name = WITH_RULES_V1;
  readonly task: TaskKind;
  private readonly cfg: WithRulesConfig;
  private readonly inner: Model;
  private readonly rules: RulesNerModel | RulesClassifyModel;

  /** Creates both parts from the config; throws ConfigError with `model.…` / `rules.…` field paths. */
  constructor(config: Record<string, unknown> = {}, parts?: WithRulesParts) {
    this.cfg = parseConfigAt(withRulesConfigSchema, config, [], WITH_RULES_V1);
    if (parts) {
      this.inner = parts.model;
      this.rules = parts.rules;
    } else {
      const { architecture, ...innerConfig } = this.cfg.model;
      this.inner = createModel(architecture, innerConfig);
      if (this.inner.task === 'multilabel') {
        throw new ConfigError(`${WITH_RULES_V1} cannot wrap a multilabel model (${architecture})`, {
          path: 'model.architecture',
          hint: 'wrap an NER or single-label classification model; keyword rules pick exactly one class',
        });
      }
      this.rules =
        this.inner.task === 'ner'
          ? new RulesNerModel(this.cfg.rules, { configPath: ['rules'] })
          : new RulesClassifyModel(this.cfg.rules, { configPath: ['rules'] });
    }
    this.task = this.inner.task;
  }

  /** Loads a directory written by {@link WithRulesModel.save}: both parts load through the registry. */
  static async load(dir: string): Promise<WithRulesModel> {
    const manifest = await readManifest(dir, WITH_RULES_V1, WITH_RULES_FORMAT_VERSION);
    const model = await loadModel(join(dir, WRAPPED_MODEL_DIR));
    const rules = await loadModel(join(dir, RULES_MODEL_DIR));
    if (!(rules instanceof RulesNerModel || rules instanceof RulesClassifyModel)) {
      throw new SapphireError('DATA_INVALID', `${join(dir, RULES_MODEL_DIR)} does not hold a rules model`, {
        file: join(dir, RULES_MODEL_DIR, MODEL_MANIFEST),
        hint: 'save the model again with with-rules.v1',
      });
    }
    return new WithRulesModel(manifest.config, { model, rules });
  }

  /** The filled configuration: the wrapped model's and the rules' filled configs, mode and thresholds. */
  config(): Record<string, unknown> {
    return {
      ...structuredClone(this.cfg),
      model: { architecture: this.inner.name, ...this.inner.config() },
      rules: this.rules.config(),
    };
  }

  /** Fits the wrapped model, then the rules (which learn only when configured to). */
  async fit(train: Example[], dev?: Example[], options?: FitOptions): Promise<FitReport> {
    const report = await this.inner.fit(train, dev, options);
    const rulesReport = await this.rules.fit(train, dev);
    return { ...report, info: { ...report.info, rules: rulesReport.info } };
  }

  /** The wrapped model's predictions combined with the rules' according to `mode`. */
  predict(inputs: ModelInput[]): Prediction[] {
    const modelPredictions = this.inner.predict(inputs);
    if (this.rules instanceof RulesNerModel) {
      const rulePredictions = this.rules.predict(inputs);
      return modelPredictions.map((p, i) => ({
        ...p,
        spans: combineSpans(p.spans ?? [], rulePredictions[i]!.spans ?? [], this.cfg.mode),
      }));
    }
    const rules = this.rules;
    return modelPredictions.map((p, i) => this.rulesDecide(p, rules, inputs[i]!) ?? p);
  }

  /** Rules explanations for the entities or class they decided, then the wrapped model's (prefixed `model:`). */
  explain(input: ModelInput, topK = 10): Explanation[] {
    const [final] = this.predict([input]);
    const prefix = (source: string, e: Explanation[]) =>
      e.map((x) => ({ ...x, target: `${source}: ${x.target}` }));
    let fromRules: Explanation[] = [];
    if (this.rules instanceof RulesNerModel) {
      const kept = new Set((final!.spans ?? []).map((s) => `${s.start}:${s.end}:${s.label}`));
      const evidence = this.rules.evidence(input);
      fromRules = this.rules
        .explain(input, topK)
        .filter((_, i) =>
          kept.has(`${evidence[i]!.span.start}:${evidence[i]!.span.end}:${evidence[i]!.span.label}`),
        );
    } else if (this.rulesDecide(this.inner.predict([input])[0]!, this.rules, input)) {
      fromRules = this.rules.explain(input, topK).slice(0, 1);
    }
    return [...prefix('rules', fromRules), ...prefix('model', this.inner.explain(input, topK))];
  }

  /** Writes `model.json`, the wrapped model in `model/` and the rules in `rules/`. */
  async save(dir: string): Promise<void> {
    await this.inner.save(join(dir, WRAPPED_MODEL_DIR));
    await this.rules.save(join(dir, RULES_MODEL_DIR));
    const labelsOf = async (sub: string) => {
      try {
        const m = JSON.parse(await readFile(join(dir, sub, MODEL_MANIFEST), 'utf8')) as { labels?: unknown };
        return Array.isArray(m.labels) ? (m.labels as string[]) : [];
      } catch {
        return [];
      }
    };
    const labels = [
      ...new Set([...(await labelsOf(WRAPPED_MODEL_DIR)), ...(await labelsOf(RULES_MODEL_DIR))]),
    ];
    await writeManifest(dir, {
      architecture: WITH_RULES_V1,
      formatVersion: WITH_RULES_FORMAT_VERSION,
      config: this.config(),
      labels: labels.sort(),
      parts: { model: WRAPPED_MODEL_DIR, rules: RULES_MODEL_DIR },
    });
  }

  /** The rules' classification when they take over from the model's prediction `p`, else undefined. */
  private rulesDecide(p: Prediction, rules: RulesClassifyModel, input: ModelInput): Prediction | undefined {
    const { prediction, fired } = rules.decide(input);
    const ruleTop = prediction.scores![0]!.score;
    if (!fired || ruleTop < this.cfg.ruleThreshold) return undefined;
    const modelTop = p.scores?.[0]?.score ?? 0;
    if (this.cfg.mode === 'fill' && modelTop >= this.cfg.modelThreshold) return undefined;
    // Report every class either part knows; classes only the model knows get probability 0 from the rules.
    const known = new Set(prediction.scores!.map((s) => s.label));
    const scores: LabelScore[] = [
      ...prediction.scores!,
      ...(p.scores ?? []).filter((s) => !known.has(s.label)).map((s) => ({ label: s.label, score: 0 })),
    ];
    return { ...p, labels: prediction.labels, scores };
  }
}
