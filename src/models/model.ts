import type { Example, Span, TaskKind, Token } from '../data/types.ts';

/** A class label with its probability (or score normalised to [0, 1]). */
export interface LabelScore {
  label: string;
  score: number;
}

/** An entity predicted by a model, with its confidence in [0, 1]. */
export interface PredictedSpan extends Span {
  score: number;
}

/** What a model predicts for one input. */
export interface Prediction {
  /** Classification: the chosen labels (one for `classify`, zero or more for `multilabel`). */
  labels?: string[];
  /** Classification: every class with its probability, best first. */
  scores?: LabelScore[];
  /** NER: predicted entities in character offsets. */
  spans?: PredictedSpan[];
}

/** The input a model predicts on: a text, with its tokens when the caller has them. */
export type ModelInput = Pick<Example, 'text'> & { tokens?: Token[] };

/** A progress event emitted during training. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Training loss (or error count for perceptrons) for the epoch. */
  loss?: number;
  /** Primary dev score after the epoch, when a dev set is given. */
  devScore?: number;
  /** Free-form message for the progress line. */
  message?: string;
}

/** Options for {@link Model.fit}. */
export interface FitOptions {
  seed?: number;
  onProgress?: (event: TrainProgress) => void;
  signal?: AbortSignal;
}

/** Summary returned by {@link Model.fit}. */
export interface FitReport {
  epochs: number;
  /** Best dev score seen, when a dev set was given. */
  bestDevScore?: number;
  /** Free-form extras (iterations, final loss, feature count). */
  info?: Record<string, unknown>;
}

/** One feature's contribution to a prediction, for explanations. */
export interface FeatureContribution {
  feature: string;
  weight: number;
}

/**
 * The `topK` contributions that push towards the target (positive weights), strongest first, ties by feature name.
 *
 * @example
 * topContributions([{ feature: 'w:card', weight: 0.4 }, { feature: 'w:the', weight: -0.1 }], 5); // [{ feature: 'w:card', … }]
 */
export function topContributions(contributions: FeatureContribution[], topK: number): FeatureContribution[] {
  return contributions
    .filter((c) => c.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.feature.localeCompare(b.feature))
    .slice(0, topK);
}

/** Why a model predicted what it did: top features per predicted label or entity. */
export interface Explanation {
  target: string;
  contributions: FeatureContribution[];
}

/**
 * A trainable model registered under a versioned name such as `crf.v1`.
 *
 * @example
 * const model = createModel('linear.v1', { task: 'classify' });
 * await model.fit(train, dev, { seed: 1 });
 * const [p] = model.predict([{ text: 'where is my card?' }]);
 */
export interface Model {
  /** Registered architecture name with version, e.g. `crf.v1`. */
  readonly name: string;
  readonly task: TaskKind;
  /** Trains on `train`, using `dev` for early stopping where the model supports it. */
  fit(train: Example[], dev?: Example[], options?: FitOptions): Promise<FitReport>;
  /**
   * Predicts for a batch; throws NotFittedError before fit or load. Models whose runtime is asynchronous
   * (ONNX Runtime) throw here and implement `predictAsync`: library callers go through `predictMany`.
   */
  predict(inputs: ModelInput[]): Prediction[];
  /** Predicts for a batch asynchronously; only models with an asynchronous runtime implement it. */
  predictAsync?(inputs: ModelInput[]): Promise<Prediction[]>;
  /** Top features behind each predicted label or entity of one input. */
  explain(input: ModelInput, topK?: number): Explanation[];
  /** The filled configuration (every default written out). */
  config(): Record<string, unknown>;
  /** Writes the model to a directory (filled config + weights + labels). */
  save(dir: string): Promise<void>;
}

/**
 * Predicts for a batch with whichever runtime the model has: `predictAsync` when it implements one
 * (ONNX Runtime), else the synchronous `predict`. Every library caller outside `models/` uses this.
 *
 * @example
 * const [p] = await predictMany(model, [{ text: 'where is my card?' }]);
 */
export function predictMany(model: Model, inputs: ModelInput[]): Promise<Prediction[]> {
  if (model.predictAsync) return model.predictAsync(inputs);
  try {
    return Promise.resolve(model.predict(inputs));
  } catch (error) {
    return Promise.reject(error);
  }
}
