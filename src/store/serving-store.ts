import type { TaskKind } from '../data/types.ts';
import type { RunArtifact } from './store.ts';

/** The tenant every single-team project uses: CLI commands default to it, and `serve --no-auth` serves it. */
export const DEFAULT_TENANT = 'default';

/** Aliases with a meaning of their own: `production` is what `/predict` serves by default. */
export const PRODUCTION_ALIAS = 'production';

// ---------------------------------------------------------------------------------------------------
// Model registry

/** One registered, immutable version of a named model (files stored content-addressed in the artifact store). */
export interface ModelVersion {
  tenant: string;
  /** Registered name (e.g. `fashion-ner`), unique per tenant. */
  name: string;
  /** 1, 2, 3… per (tenant, name), in registration order. */
  version: number;
  /** Architecture of the model files, e.g. `crf.v1`. */
  architecture: string;
  task: TaskKind;
  /** The training run the files came from, when registered from a run. */
  runId: string | null;
  /** Where it was registered from: `run:<id>` or `dir:<absolute path>`. */
  source: string;
  /** The model folder's files (`model.json`, weights…), relative names, content-addressed. */
  files: RunArtifact[];
  /** The filled training config (or the model's filled config when registered from a folder). */
  config: Record<string, unknown>;
  /** The source run's final metrics (`dev.*`, `test.*`), `{}` from a folder. */
  metrics: Record<string, number>;
  datasetVersions: string[];
  description: string | null;
  createdAt: string;
  createdBy: string;
  /** Aliases currently pointing at this version (e.g. `["production"]`). */
  aliases: string[];
}

/** Input to {@link RegistryStore.registerVersion}: the version number is assigned by the store. */
export interface NewModelVersion {
  tenant: string;
  name: string;
  architecture: string;
  task: TaskKind;
  runId?: string | null;
  source: string;
  files: RunArtifact[];
  config?: Record<string, unknown>;
  metrics?: Record<string, number>;
  datasetVersions?: string[];
  description?: string | null;
  createdBy: string;
}

/** A registered model name with its versions and aliases. */
export interface RegisteredModel {
  tenant: string;
  name: string;
  task: TaskKind;
  /** Number of versions; the newest is `latestVersion`. */
  versionCount: number;
  latestVersion: number;
  /** alias → version, e.g. `{ production: 3, staging: 4 }`. */
  aliases: Record<string, number>;
  createdAt: string;
  updatedAt: string;
}

/** The outcome of one promotion gate, with the numbers behind it (stored as JSON with the promotion). */
export interface GateOutcome {
  /** `metric`, `significance`, `acceptance.<metric>`, `earmarks`, `latency`, … */
  gate: string;
  passed: boolean;
  /** One line with the numbers, e.g. `macro_f1 0.412 vs production 0.905 (Δ −0.493, p < 0.001)`. */
  summary: string;
  /** The numbers themselves, for `--json` and the UI. */
  details: Record<string, unknown>;
}

/** An attempt to point an alias at a version: promoted (possibly forced) or refused, with every gate's outcome. */
export interface PromotionRecord {
  id: string;
  tenant: string;
  name: string;
  version: number;
  alias: string;
  /** The version the alias pointed at before (null when it was unset). */
  previousVersion: number | null;
  outcome: 'promoted' | 'refused';
  /** Promoted although a gate failed (`--force`). */
  forced: boolean;
  reason: string | null;
  gates: GateOutcome[];
  actor: string;
  createdAt: string;
}

/** Input to {@link RegistryStore.recordPromotion}. */
export type NewPromotionRecord = Omit<PromotionRecord, 'id' | 'createdAt' | 'previousVersion'>;

/** One alias as it stands: polled by the server to hot-swap models when an alias moves. */
export interface AliasPointer {
  tenant: string;
  name: string;
  alias: string;
  version: number;
  updatedAt: string;
}

/** Registered models, their versions and aliases, and the promotion log. */
export interface RegistryStore {
  /** Adds the next version of `name` (creating the name on first use) in one transaction; the task must match earlier versions. */
  registerVersion(input: NewModelVersion): Promise<ModelVersion>;
  /** Every registered model of a tenant, by name. */
  listModels(tenant: string): Promise<RegisteredModel[]>;
  /** Versions of one model, newest first; NotFoundError (with a hint) for an unknown name. */
  listVersions(tenant: string, name: string): Promise<ModelVersion[]>;
  /**
   * Resolves `name` (the `production` alias, else the newest version), `name@<version number>` or
   * `name@<alias>`; NotFoundError naming what exists otherwise.
   */
  resolveVersion(tenant: string, ref: string): Promise<ModelVersion>;
  /**
   * Points `alias` at a version and, when `record` is given, logs the promotion (outcome `promoted`), both in
   * one transaction; returns the record (or null without one).
   */
  setAlias(
    tenant: string,
    name: string,
    alias: string,
    version: number,
    record?: Omit<NewPromotionRecord, 'tenant' | 'name' | 'version' | 'alias' | 'outcome'>,
  ): Promise<PromotionRecord | null>;
  /** Removes an alias; NotFoundError when it is not set. */
  removeAlias(tenant: string, name: string, alias: string): Promise<void>;
  /** Logs a refused promotion (nothing else changes). */
  recordPromotion(record: NewPromotionRecord): Promise<PromotionRecord>;
  /** Promotion log, newest first, optionally of one model. */
  listPromotions(tenant: string, name?: string): Promise<PromotionRecord[]>;
  /** Every alias of every tenant (one cheap query: the server polls it to pick up promotions). */
  listAliases(): Promise<AliasPointer[]>;
}

// ---------------------------------------------------------------------------------------------------
// Tenants and API keys

/** What an API key may do: `predict` (predict, feedback) or `admin` (also overrides, registry, feedback review). */
export type ApiKeyScope = 'predict' | 'admin';

/** A tenant: its own models, overrides, feedback and keys. */
export interface Tenant {
  /** Slug, e.g. `acme` (letters, digits, `-`, `_`). */
  id: string;
  /** Requests per minute over all its keys; null for the server's default. */
  rateLimitPerMinute: number | null;
  createdAt: string;
}

/** An API key as stored: only its sha256 is kept; `prefix` (first characters) identifies it in listings. */
export interface ApiKeyInfo {
  id: string;
  tenant: string;
  scope: ApiKeyScope;
  /** `sk_<tenant>_` and the first 4 random hex characters (e.g. `sk_acme_3f9a`), shown by `tenants keys` and accepted by `revoke`. */
  prefix: string;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** Tenants and their API keys. */
export interface TenantStore {
  /** Creates a tenant; CONFLICT when it exists. The default tenant exists in every store. */
  createTenant(input: { id: string; rateLimitPerMinute?: number | null }): Promise<Tenant>;
  listTenants(): Promise<Tenant[]>;
  /** NotFoundError with a hint for an unknown tenant. */
  getTenant(id: string): Promise<Tenant>;
  /** Changes a tenant's rate limit. */
  updateTenant(id: string, patch: { rateLimitPerMinute?: number | null }): Promise<Tenant>;
  /** Makes a new random key (`sk_<tenant>_<32 hex>`); the plain key is returned once and never stored. */
  createApiKey(input: { tenant: string; scope: ApiKeyScope; label?: string | null }): Promise<{
    key: string;
    info: ApiKeyInfo;
  }>;
  /** Keys (never the keys themselves), optionally of one tenant, newest first. */
  listApiKeys(tenant?: string): Promise<ApiKeyInfo[]>;
  /** Revokes a key by id or prefix; NotFoundError / CONFLICT (ambiguous prefix) otherwise. */
  revokeApiKey(idOrPrefix: string): Promise<ApiKeyInfo>;
  /** The key's record when it exists and is not revoked, else null (looked up by sha256). */
  authenticate(key: string): Promise<ApiKeyInfo | null>;
}

// ---------------------------------------------------------------------------------------------------
// Overrides

/** `always`: give this answer when the rule matches; `never`: never give it. */
export type OverrideAction = 'always' | 'never';
/** How the pattern matches: the whole text, a whole-word phrase (case-insensitive), or a regular expression. */
export type OverrideMatch = 'exact' | 'phrase' | 'regex';
/** Whether the rule is about a class (classification) or an entity type (NER). */
export type OverrideTarget = 'class' | 'entity';

/** One override rule of a tenant's model, applied after the model. Removing one keeps it (with who/when). */
export interface Override {
  id: string;
  tenant: string;
  /** Registered model name the rule applies to. */
  model: string;
  action: OverrideAction;
  match: OverrideMatch;
  pattern: string;
  /** Regex flags (`i`, `u`, `s`, `m`), only for `match: regex`. */
  flags: string;
  target: OverrideTarget;
  label: string;
  note: string | null;
  createdBy: string;
  createdAt: string;
  removedBy: string | null;
  removedAt: string | null;
  /** Times the rule changed a served answer (flushed by the server in batches). */
  hits: number;
}

/** Input to {@link OverrideStore.addOverride}. */
export interface NewOverride {
  tenant: string;
  model: string;
  action: OverrideAction;
  match: OverrideMatch;
  pattern: string;
  flags?: string;
  target: OverrideTarget;
  label: string;
  note?: string | null;
  createdBy: string;
}

/** Override rules per tenant and model, versioned: every add and removal bumps the model's override revision. */
export interface OverrideStore {
  /** Adds a rule (validated: non-empty pattern, compilable regex, known flags); bumps the revision. */
  addOverride(input: NewOverride): Promise<Override>;
  /** Active rules (and removed ones with `includeRemoved`), oldest first. */
  listOverrides(tenant: string, options?: { model?: string; includeRemoved?: boolean }): Promise<Override[]>;
  /** Marks a rule removed (by whom, when); NotFoundError for an unknown id or another tenant's rule. */
  removeOverride(tenant: string, id: string, actor: string): Promise<Override>;
  /** The model's override revision: the number of adds and removals so far (0 for none). */
  overrideRevision(tenant: string, model: string): Promise<number>;
  /** Adds hit counts to rules (ids unknown to the store are ignored). */
  addOverrideHits(hits: ReadonlyMap<string, number>): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Prediction log, usage and feedback

/** A served prediction as logged (sampled) by the server. */
export interface LoggedPrediction {
  requestId: string;
  /** Index of the text in a batch request (0 for a single text). */
  item: number;
  tenant: string;
  model: string;
  version: number;
  /** The text the model saw (after HTML extraction). */
  text: string;
  /** The response item: labels/entities with confidences, overrides marked. */
  output: Record<string, unknown>;
  overridden: boolean;
  latencyMs: number;
  createdAt: string;
}

/**
 * A logged prediction whose output is already JSON text: the server's request log holds its items so (one string
 * per item is much cheaper for the garbage collector to keep than the answer's object tree).
 */
export type SerializedPrediction = Omit<LoggedPrediction, 'output'> & { outputJson: string };

/** When and how fast one logged item was answered, and whether an override changed it. */
export type LoggedTiming = Pick<
  LoggedPrediction,
  'requestId' | 'item' | 'model' | 'version' | 'overridden' | 'latencyMs' | 'createdAt'
>;

/** Requests served per tenant, model, version and UTC day (counted exactly, whatever the log sampling). */
export interface UsageCount {
  tenant: string;
  model: string;
  version: number;
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  requests: number;
  /** Texts predicted (a batch request counts each text). */
  items: number;
  overridden: number;
  errors: number;
}

/** Review state of feedback: corrections are used for retraining once `accepted`. */
export type FeedbackStatus = 'new' | 'accepted' | 'rejected';

/** Feedback on a served prediction: a thumbs up/down and/or a correction. */
export interface Feedback {
  id: string;
  tenant: string;
  requestId: string;
  /** Index of the text in a batch request (0 for single). */
  item: number;
  /** Model and version that answered, from the logged prediction (null when the request was not logged). */
  model: string | null;
  version: number | null;
  rating: 'up' | 'down' | null;
  /** The right answer: `{ labels: [...] }` or `{ spans: [{start, end, label}] }` over the logged text. */
  correction: Record<string, unknown> | null;
  comment: string | null;
  /** The text the prediction was made on, when known. */
  text: string | null;
  status: FeedbackStatus;
  createdAt: string;
}

/** Input to {@link FeedbackStore.addFeedback}. */
export interface NewFeedback {
  tenant: string;
  requestId: string;
  item?: number;
  model?: string | null;
  version?: number | null;
  rating?: 'up' | 'down' | null;
  correction?: Record<string, unknown> | null;
  comment?: string | null;
  text?: string | null;
}

/** Filters for {@link FeedbackStore.listFeedback}. */
export interface FeedbackFilter {
  tenant: string;
  model?: string;
  status?: FeedbackStatus;
  /** Only feedback with a correction. */
  withCorrection?: boolean;
  /** ISO timestamp: created at or after. */
  since?: string;
  limit?: number;
}

/** Online feedback counts per tenant, model, version and UTC day. */
export interface FeedbackCount {
  tenant: string;
  model: string;
  version: number;
  day: string;
  up: number;
  down: number;
  corrections: number;
}

/** Logged predictions, usage counters and feedback. */
export interface FeedbackStore {
  /** Appends logged predictions in batched writes (a (request id, item) logged twice keeps the first). */
  logPredictions(rows: readonly (LoggedPrediction | SerializedPrediction)[]): Promise<void>;
  /** The logged prediction of one item of a request (default item 0) of this tenant, or null. */
  getLoggedPrediction(tenant: string, requestId: string, item?: number): Promise<LoggedPrediction | null>;
  /**
   * Timing of logged predictions of a tenant (no texts or outputs), oldest first, at most `limit` (default 100,000)
   * of the newest: the sample the monitoring time series (latency percentiles, overrides) are drawn from.
   */
  loggedTimings(filter: {
    tenant: string;
    model?: string;
    since?: string;
    limit?: number;
  }): Promise<LoggedTiming[]>;
  /** Adds usage counts (summed into the day's row). */
  addUsage(counts: readonly UsageCount[]): Promise<void>;
  usage(filter: { tenant?: string; model?: string; since?: string }): Promise<UsageCount[]>;
  /** Stores feedback; rating `up`/`down`/null and correction are validated by the caller. */
  addFeedback(input: NewFeedback): Promise<Feedback>;
  listFeedback(filter: FeedbackFilter): Promise<Feedback[]>;
  /** Sets the review status of feedback items of a tenant; returns how many changed. */
  setFeedbackStatus(tenant: string, ids: readonly string[], status: FeedbackStatus): Promise<number>;
  feedbackCounts(filter: { tenant?: string; model?: string; since?: string }): Promise<FeedbackCount[]>;
  /** Deletes logged predictions created before `before` (ISO timestamp); feedback is kept. */
  purgePredictions(before: string): Promise<number>;
  /** Logged predictions of one model of a tenant, newest first (for exporting samples to annotate). */
  listPredictions(filter: PredictionFilter): Promise<LoggedPrediction[]>;
}

/** Filters for {@link FeedbackStore.listPredictions}. */
export interface PredictionFilter {
  tenant: string;
  model: string;
  /** Only this version. */
  version?: number;
  /** ISO timestamp: created at or after. */
  since?: string;
  limit?: number;
}

// ---------------------------------------------------------------------------------------------------
// Live monitoring

/** One server replica's monitoring sketches of one model version over one time bucket. */
export interface SketchBucket {
  tenant: string;
  model: string;
  version: number;
  /** ISO start of the bucket (UTC). */
  bucket: string;
  /** The replica that observed it (each server has a random id). */
  replica: string;
  /** Predictions observed in the bucket. */
  items: number;
  /** The serialised sketches (see src/monitor/live-sketch.ts). */
  state: Record<string, unknown>;
  updatedAt: string;
}

/** Sketch buckets published by server replicas, merged by readers into one view. */
export interface MonitoringStore {
  /** Writes buckets, replacing a replica's earlier state of the same bucket. */
  putSketches(rows: readonly SketchBucket[]): Promise<void>;
  /** Buckets of one model of a tenant starting at or after `since`, oldest first. */
  listSketches(filter: {
    tenant: string;
    model: string;
    version?: number;
    since: string;
  }): Promise<SketchBucket[]>;
  /** Deletes buckets that started before `before` (ISO timestamp). */
  purgeSketches(before: string): Promise<number>;
}
