import type { Example } from '../data/types.ts';
import type {
  FeedbackStore,
  MonitoringStore,
  OverrideStore,
  RegistryStore,
  TenantStore,
} from './serving-store.ts';
import type { CheckpointLog } from './sqlite-checkpointer.ts';

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

/** A tracked run (training, evaluation, trial, fold, or a study that groups other runs). */
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
  /** The study (sweep, cross-validation, curve, ladder) this run belongs to, if any. */
  parentId: string | null;
  /** Free-form notes added with `runs note`. */
  notes: string | null;
  /** Where and with what the run was made: code version, package versions, host, pid. */
  provenance: Record<string, unknown>;
}

/** Input to {@link Store.createRun}. */
export interface NewRun {
  kind: string;
  name?: string | null;
  config?: Record<string, unknown>;
  datasetVersions?: string[];
  seed?: number | null;
  tags?: string[];
  parentId?: string | null;
  provenance?: Record<string, unknown>;
}

/** Filters for {@link Store.listRuns}; every given field must match. */
export interface RunFilter {
  kind?: string | string[];
  status?: RunStatus;
  /** Runs of this study; `null` for top-level runs only. */
  parentId?: string | null;
  /** Runs carrying this tag. */
  tag?: string;
  /** At most this many runs (newest first). */
  limit?: number;
}

/** Changes to a run's descriptive fields (never its results). */
export interface RunPatch {
  name?: string | null;
  addTags?: string[];
  removeTags?: string[];
  notes?: string | null;
}

/** A named file recorded for a run (a model file, predictions), stored content-addressed. */
export interface RunArtifact {
  /** Path-like name inside the run, e.g. `model/model.json` or `predictions/test.jsonl`. */
  name: string;
  /** sha256 of the bytes in the artifact folder. */
  hash: string;
  size: number;
}

/** What {@link Store.deleteRun} removed. */
export interface DeletedRuns {
  /** Ids of the deleted runs (the run and, for a study, its members). */
  runs: string[];
  /** Artifact blobs no other run or dataset version used, now deleted. */
  freedArtifacts: number;
  freedBytes: number;
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

  /** Registered models, versions, aliases and promotions (see serving-store.ts). */
  readonly registry: RegistryStore;
  /** Tenants and their hashed API keys. */
  readonly tenants: TenantStore;
  /** Override rules per tenant and model. */
  readonly overrides: OverrideStore;
  /** Logged predictions, usage counters and feedback. */
  readonly feedback: FeedbackStore;
  /** Live monitoring sketches published by server replicas. */
  readonly monitoring: MonitoringStore;
  /**
   * Optional: moves database housekeeping that would block the calling thread (SQLite's WAL checkpoints) to a
   * background thread, for a server that writes from its event loop.
   */
  checkpointInBackground?(logger?: CheckpointLog): Promise<void>;

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
  /** Appends many metric points in batched writes (a point logged twice keeps the last value). */
  logMetricPoints(runId: string, points: MetricPoint[]): Promise<void>;
  /** Marks a run finished (with final metrics) or failed (with the error). */
  finishRun(
    runId: string,
    outcome: { status: 'finished' | 'failed'; metrics?: Record<string, number>; error?: string },
  ): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  /** Runs matching the filter, newest first. */
  listRuns(filter?: RunFilter): Promise<Run[]>;
  metricHistory(runId: string, key?: string): Promise<MetricPoint[]>;
  /** Changes a run's name, tags or notes. */
  updateRun(runId: string, patch: RunPatch): Promise<Run>;
  /** Deletes a run (a study with its members), its metrics and artifact records, and frees unshared blobs. */
  deleteRun(runId: string): Promise<DeletedRuns>;
  /** Records files of a run (already stored with {@link putArtifact}); a name recorded twice keeps the last. */
  addRunArtifacts(runId: string, artifacts: RunArtifact[]): Promise<void>;
  listRunArtifacts(runId: string): Promise<RunArtifact[]>;

  /** Stores bytes in the content-addressed artifact folder; returns their sha256. */
  putArtifact(bytes: Uint8Array): Promise<string>;
  getArtifact(hash: string): Promise<Uint8Array>;

  close(): Promise<void>;
}
