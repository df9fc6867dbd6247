/**
 * One entry point that scores a model's predictions against gold examples for any task and returns a
 * plain JSON-serialisable report: the problem card's metric names, per-label scores, the confusion
 * matrix (single-label classification) and calibration. The counts behind a report are mergeable, so
 * batches, folds or workers can be evaluated separately and combined.
 */
import { ConfigError, DataError, type Problem, SapphireError, throwIfProblems } from '../core/errors.ts';
import type { Example, TaskKind } from '../data/types.ts';
import type { LabelScore, PredictedSpan, Prediction } from '../models/model.ts';
import {
  addCalibration,
  type CalibrationCounts,
  type CalibrationReport,
  CONFIDENCE_TOLERANCE,
  calibrationReport,
  classificationConfidencePair,
  createCalibrationCounts,
  DEFAULT_CALIBRATION_BINS,
  mergeCalibrationCounts,
  multiLabelConfidencePairs,
  spanConfidencePairs,
} from './calibration.ts';
import {
  addClassification,
  addMultiLabel,
  type ClassificationCounts,
  type ConfusionCounts,
  classificationScores,
  createClassificationCounts,
  createMultiLabelCounts,
  type MultiLabelCounts,
  mergeClassificationCounts,
  mergeMultiLabelCounts,
  multiLabelScores,
} from './classification-metrics.ts';
import type { LabelMetrics } from './label-counts.ts';
import { predictedClass, predictedLabelSet } from './prediction-labels.ts';
import {
  addSpans,
  createSpanCounts,
  mergeSpanCounts,
  type SpanCounts,
  spanProblems,
  spanScores,
} from './span-metrics.ts';

/** The metric names of the problem card, per task, in the order reports list them. */
const PRIMARY_METRICS: Readonly<Record<TaskKind, readonly string[]>> = {
  ner: ['span_f1_micro', 'span_f1_macro', 'span_precision', 'span_recall'],
  classify: ['accuracy', 'macro_f1', 'micro_f1', 'weighted_f1'],
  multilabel: ['micro_f1', 'macro_f1', 'samples_f1', 'subset_accuracy'],
};

/** Options for {@link evaluatePredictions} and {@link evaluationReport}. */
export interface EvaluateOptions {
  /** The project's label set: always reported (zeros when absent) and listed first, in this order. */
  labels?: readonly string[];
  /** Number of equal-width calibration bins (default 10). */
  calibrationBins?: number;
}

/** Mergeable counts behind an {@link EvaluationReport}; JSON-serialisable. */
export type EvaluationCounts =
  | { task: 'ner'; spans: SpanCounts; calibration: CalibrationCounts }
  | { task: 'classify'; classification: ClassificationCounts; calibration: CalibrationCounts }
  | { task: 'multilabel'; multiLabel: MultiLabelCounts; calibration: CalibrationCounts };

/** A model's evaluation on a set of examples, as plain JSON. */
export interface EvaluationReport {
  task: TaskKind;
  examples: number;
  /**
   * Flat metric map: the task's {@link primaryMetricNames} first, then extras — ner:
   * span_precision_macro, span_recall_macro; classify: macro_precision, macro_recall; multilabel:
   * micro_precision, micro_recall, hamming_loss; every task: ece.
   */
  metrics: Record<string, number>;
  /** Per-label scores: labels from the options first, then the others by name. */
  perLabel: LabelMetrics[];
  /** Single-label classification: gold → predicted → count (non-zero cells only). */
  confusion?: ConfusionCounts;
  /** Single-label classification: examples for which the model predicted no label. */
  abstained?: number;
  calibration: CalibrationReport;
  /** When `labels` were given: labels seen in gold or predictions that are not among them. */
  unexpectedLabels?: string[];
}

/**
 * The metric names reports always contain for a task (the names a problem card may choose from).
 *
 * @example
 * primaryMetricNames('ner'); // ['span_f1_micro', 'span_f1_macro', 'span_precision', 'span_recall']
 */
export function primaryMetricNames(task: TaskKind): string[] {
  checkTask(task);
  return [...PRIMARY_METRICS[task]];
}

function checkTask(task: unknown): asserts task is TaskKind {
  if (typeof task !== 'string' || !Object.hasOwn(PRIMARY_METRICS, task)) {
    throw new ConfigError(`unknown task ${JSON.stringify(task)}`, {
      path: 'task',
      hint: `use one of ${Object.keys(PRIMARY_METRICS).join(', ')}`,
    });
  }
}

/** Creates empty counts for a task. */
export function createEvaluationCounts(
  task: TaskKind,
  calibrationBins: number = DEFAULT_CALIBRATION_BINS,
): EvaluationCounts {
  checkTask(task);
  const calibration = createCalibrationCounts(calibrationBins);
  if (task === 'ner') return { task, spans: createSpanCounts(), calibration };
  if (task === 'classify') return { task, classification: createClassificationCounts(), calibration };
  return { task, multiLabel: createMultiLabelCounts(), calibration };
}

function scoreProblem(score: unknown): string | undefined {
  if (typeof score !== 'number' || !Number.isFinite(score)) return `score ${String(score)} is not a number`;
  if (score < -CONFIDENCE_TOLERANCE || score > 1 + CONFIDENCE_TOLERANCE)
    return `score ${score} is outside [0, 1]`;
  return undefined;
}

function labelScoreProblems(scores: readonly LabelScore[] | undefined, where: Problem): Problem[] {
  if (scores === undefined) return [];
  const problems: Problem[] = [];
  scores.forEach((s, j) => {
    const path = `${where.path}.scores[${j}]`;
    if (typeof s?.label !== 'string' || s.label === '') {
      problems.push({
        ...where,
        path,
        message: `label ${JSON.stringify(s?.label)} is not a non-empty string`,
      });
    }
    const problem = scoreProblem(s?.score);
    if (problem) problems.push({ ...where, path, message: problem });
  });
  return problems;
}

function predictedLabelProblems(labels: readonly string[] | undefined, where: Problem): Problem[] {
  return (labels ?? []).flatMap((label, j) =>
    typeof label === 'string' && label !== ''
      ? []
      : [
          {
            ...where,
            path: `${where.path}.labels[${j}]`,
            message: `label ${JSON.stringify(label)} is not a non-empty string`,
          },
        ],
  );
}

function nerProblems(example: Example, prediction: Prediction, i: number): Problem[] {
  const exampleId = example.id;
  const gold = example.spans ?? [];
  const predicted = prediction.spans ?? [];
  const problems = [
    ...spanProblems(gold, { exampleId, path: 'spans' }),
    ...spanProblems(predicted, { exampleId, path: `predictions[${i}].spans` }),
  ];
  const length = example.text.length;
  gold.forEach((s, j) => {
    if (s?.end > length) {
      problems.push({
        exampleId,
        path: `spans[${j}]`,
        message: `span end ${s.end} is past the text (${length})`,
      });
    }
  });
  predicted.forEach((s, j) => {
    const path = `predictions[${i}].spans[${j}]`;
    if (s?.end > length)
      problems.push({ exampleId, path, message: `span end ${s.end} is past the text (${length})` });
    const problem = scoreProblem(s?.score);
    if (problem) problems.push({ exampleId, path, message: problem });
  });
  return problems;
}

function classifyProblems(example: Example, prediction: Prediction, i: number): Problem[] {
  const exampleId = example.id;
  const where = { exampleId, path: `predictions[${i}]`, message: '' };
  const problems = [
    ...predictedLabelProblems(prediction.labels, where),
    ...labelScoreProblems(prediction.scores, where),
  ];
  const gold = example.labels ?? [];
  if (gold.length === 0) problems.push({ exampleId, path: 'labels', message: 'example has no gold label' });
  else if (gold.length > 1) {
    problems.push({
      exampleId,
      path: 'labels',
      message: `example has ${gold.length} gold labels; single-label evaluation needs exactly one`,
    });
  } else if (typeof gold[0] !== 'string' || gold[0] === '') {
    problems.push({
      exampleId,
      path: 'labels[0]',
      message: `gold label ${JSON.stringify(gold[0])} is not a non-empty string`,
    });
  }
  return problems;
}

function multiLabelProblems(example: Example, prediction: Prediction, i: number): Problem[] {
  const exampleId = example.id;
  const where = { exampleId, path: `predictions[${i}]`, message: '' };
  const problems = [
    ...predictedLabelProblems(prediction.labels, where),
    ...labelScoreProblems(prediction.scores, where),
  ];
  (example.labels ?? []).forEach((label, j) => {
    if (typeof label !== 'string' || label === '') {
      problems.push({
        exampleId,
        path: `labels[${j}]`,
        message: `gold label ${JSON.stringify(label)} is not a non-empty string`,
      });
    }
  });
  return problems;
}

const HINTS: Record<TaskKind, string> = {
  ner: 'gold and predicted spans need integer character offsets inside the text, a label and (predicted) a score in [0, 1]',
  classify:
    'single-label evaluation needs exactly one gold label per example (use task "multilabel" otherwise) and scores in [0, 1]',
  multilabel: 'labels must be non-empty strings and scores numbers in [0, 1]',
};

/**
 * Adds a batch of gold examples and their predictions (same order, same length) to the counts,
 * mutating and returning them; checks the whole batch first and throws one DataError listing every
 * problem, leaving the counts unchanged.
 */
export function addPredictions(
  counts: EvaluationCounts,
  gold: readonly Example[],
  predictions: readonly Prediction[],
): EvaluationCounts {
  if (gold.length !== predictions.length) {
    throw new DataError(`${gold.length} gold examples but ${predictions.length} predictions`, {
      path: 'predictions',
      hint: 'predict on exactly the evaluated examples and keep them in the same order',
    });
  }
  const check =
    counts.task === 'ner' ? nerProblems : counts.task === 'classify' ? classifyProblems : multiLabelProblems;
  const problems = gold.flatMap((example, i) => check(example, predictions[i] ?? {}, i));
  throwIfProblems(problems, `the ${counts.task} evaluation batch`, HINTS[counts.task]);

  gold.forEach((example, i) => {
    const prediction = predictions[i] ?? {};
    const where = { exampleId: example.id, path: `predictions[${i}]` };
    if (counts.task === 'ner') {
      const goldSpans = example.spans ?? [];
      const predicted: PredictedSpan[] = prediction.spans ?? [];
      addSpans(counts.spans, goldSpans, predicted);
      for (const pair of spanConfidencePairs(goldSpans, predicted)) {
        addCalibration(counts.calibration, pair.confidence, pair.correct, where);
      }
    } else if (counts.task === 'classify') {
      const label = example.labels![0]!;
      addClassification(counts.classification, label, predictedClass(prediction) ?? null);
      const pair = classificationConfidencePair(label, prediction);
      if (pair) addCalibration(counts.calibration, pair.confidence, pair.correct, where);
    } else {
      const labels = example.labels ?? [];
      addMultiLabel(counts.multiLabel, labels, predictedLabelSet(prediction));
      for (const pair of multiLabelConfidencePairs(labels, prediction)) {
        addCalibration(counts.calibration, pair.confidence, pair.correct, where);
      }
    }
  });
  return counts;
}

/** New counts equal to the sum of two for the same task and bin count; the inputs are not changed. */
export function mergeEvaluationCounts(a: EvaluationCounts, b: EvaluationCounts): EvaluationCounts {
  const calibration = mergeCalibrationCounts(a.calibration, b.calibration);
  if (a.task === 'ner' && b.task === 'ner')
    return { task: 'ner', spans: mergeSpanCounts(a.spans, b.spans), calibration };
  if (a.task === 'classify' && b.task === 'classify') {
    return {
      task: 'classify',
      classification: mergeClassificationCounts(a.classification, b.classification),
      calibration,
    };
  }
  if (a.task === 'multilabel' && b.task === 'multilabel') {
    return { task: 'multilabel', multiLabel: mergeMultiLabelCounts(a.multiLabel, b.multiLabel), calibration };
  }
  throw new SapphireError('BAD_INPUT', `cannot merge ${a.task} counts with ${b.task} counts`, {
    hint: 'merge only evaluation counts of the same task',
  });
}

/** Builds the report from counts (see {@link EvaluationReport} for what it holds). */
export function evaluationReport(counts: EvaluationCounts, options: EvaluateOptions = {}): EvaluationReport {
  const calibration = calibrationReport(counts.calibration);
  const labelOptions = { labels: options.labels };
  let report: EvaluationReport;
  if (counts.task === 'ner') {
    const s = spanScores(counts.spans, labelOptions);
    report = {
      task: 'ner',
      examples: s.examples,
      metrics: {
        span_f1_micro: s.micro.f1,
        span_f1_macro: s.macro.f1,
        span_precision: s.micro.precision,
        span_recall: s.micro.recall,
        span_precision_macro: s.macro.precision,
        span_recall_macro: s.macro.recall,
        ece: calibration.ece,
      },
      perLabel: s.perLabel,
      calibration,
    };
  } else if (counts.task === 'classify') {
    const s = classificationScores(counts.classification, labelOptions);
    report = {
      task: 'classify',
      examples: s.examples,
      metrics: {
        accuracy: s.accuracy,
        macro_f1: s.macro.f1,
        micro_f1: s.micro.f1,
        weighted_f1: s.weighted.f1,
        macro_precision: s.macro.precision,
        macro_recall: s.macro.recall,
        ece: calibration.ece,
      },
      perLabel: s.perLabel,
      confusion: s.confusion,
      abstained: s.abstained,
      calibration,
    };
  } else {
    const s = multiLabelScores(counts.multiLabel, labelOptions);
    report = {
      task: 'multilabel',
      examples: s.examples,
      metrics: {
        micro_f1: s.micro.f1,
        macro_f1: s.macro.f1,
        samples_f1: s.samplesF1,
        subset_accuracy: s.subsetAccuracy,
        micro_precision: s.micro.precision,
        micro_recall: s.micro.recall,
        hamming_loss: s.hammingLoss,
        ece: calibration.ece,
      },
      perLabel: s.perLabel,
      calibration,
    };
  }
  if (options.labels) {
    const listed = new Set(options.labels);
    report.unexpectedLabels = report.perLabel.map((r) => r.label).filter((label) => !listed.has(label));
  }
  return report;
}

/**
 * Scores predictions against gold examples (same order) and returns a JSON-serialisable report;
 * throws one DataError listing every malformed example or prediction.
 *
 * @example
 * const report = evaluatePredictions('ner', testSet, model.predict(testSet));
 * report.metrics.span_f1_micro; // e.g. 0.84
 */
export function evaluatePredictions(
  task: TaskKind,
  gold: readonly Example[],
  predictions: readonly Prediction[],
  options: EvaluateOptions = {},
): EvaluationReport {
  const counts = addPredictions(createEvaluationCounts(task, options.calibrationBins), gold, predictions);
  return evaluationReport(counts, options);
}
