import type { Example } from '../data/types.ts';

/** How a dataset version was made from its parent (or from files, for an import). */
export interface DatasetOperation {
  /** `import`, `split`, `filter`, … */
  kind: string;
  /** Everything needed to redo or explain the operation (source paths, format options, seed, ratios). */
  params: Record<string, unknown>;
}

/** One immutable, content-addressed version of a named dataset. */
export interface DatasetVersion {
  /** `name@<first 12 hex chars of the content hash>`. */
  id: string;
  name: string;
  /** Full sha256 (hex) of the canonical content of the examples, in order. */
  hash: string;
  /** Version this one was derived from, if any. */
  parentId: string | null;
  operation: DatasetOperation;
  exampleCount: number;
  /** Example count per split name (`{}` when the version has no split assignment). */
  splitCounts: Record<string, number>;
  /** Content hash of the artifact blob holding the examples. */
  blob: string;
  createdAt: string;
}

/** Input to {@link Store.putDatasetVersion}. */
export interface NewDatasetVersion {
  name: string;
  examples: Example[];
  parentId?: string | null;
  operation: DatasetOperation;
}

/** Status of a tracked run. */
export type RunStatus = 'running' | 'finished' | 'failed';

/** A tracked run (training, evaluation, trial, fold). */
export interface Run {
  id: string;
  kind: string;
  name: string | null;
  status: RunStatus;
  config: Record<string, unknown>;
  datasetVersions: string[];
  seed: number | null;
  metrics: Record<string, number>;
  tags: string[];
  error: string | null;
  startedAt: string;
  endedAt: string | null;
}

/** Input to {@link Store.createRun}. */
export interface NewRun {
  kind: string;
  name?: string | null;
  config?: Record<string, unknown>;
  datasetVersions?: string[];
  seed?: number | null;
  tags?: string[];
}

/** One metric value logged at a step of a run. */
export interface MetricPoint {
  key: string;
  step: number;
  value: number;
}

/** The tracking store: datasets, runs, metrics and artifacts, behind one interface. */
export interface Store {
  /** Human-readable location (file path or URI without password). */
  readonly location: string;

  /** Stores a version atomically; identical content under the same name returns the existing version. */
  putDatasetVersion(input: NewDatasetVersion): Promise<{ version: DatasetVersion; created: boolean }>;
  /** All versions, newest first, optionally of one dataset name. */
  listDatasetVersions(name?: string): Promise<DatasetVersion[]>;
  /** Resolves `name` (newest version), `name@prefix` or a full id; throws NotFoundError with a hint. */
  getDatasetVersion(ref: string): Promise<DatasetVersion>;
  /** Loads the examples of a version, in stored order. */
  loadExamples(ref: string): Promise<Example[]>;

  /** Starts a run with status `running`. */
  createRun(input: NewRun): Promise<Run>;
  /** Appends metric values at a step. */
  logMetrics(runId: string, step: number, metrics: Record<string, number>): Promise<void>;
  /** Marks a run finished (with final metrics) or failed (with the error). */
  finishRun(
    runId: string,
    outcome: { status: 'finished' | 'failed'; metrics?: Record<string, number>; error?: string },
  ): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  listRuns(filter?: { kind?: string; status?: RunStatus }): Promise<Run[]>;
  metricHistory(runId: string, key?: string): Promise<MetricPoint[]>;

  /** Stores bytes in the content-addressed artifact folder; returns their sha256. */
  putArtifact(bytes: Uint8Array): Promise<string>;
  getArtifact(hash: string): Promise<Uint8Array>;

  close(): Promise<void>;
}
