import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ProblemCard } from '../core/project.ts';
import type { Model } from '../models/model.ts';
import type { LiveMonitor } from '../monitor/live-monitor.ts';
import type { ApiKeyScope, ModelVersion } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import type { ServeMetrics } from './metrics.ts';
import type { RequestLog } from './request-log.ts';

/** Limits of one request; exceeding them answers 413 (body) or 422 (texts, batch) with a clear message. */
export interface ServeLimits {
  /** Largest request body in bytes (default 1 MiB). */
  bodyBytes: number;
  /** Longest text (or HTML page) in characters (default 100,000). */
  textChars: number;
  /** Most texts in one batch (default 256). */
  batchSize: number;
}

/** Everything `buildServer` needs; the CLI fills it from `sapphire.yaml`'s `serve:` section and flags. */
export interface ServeOptions {
  store: Store;
  /** The project's problem card (task, labels, serve settings). */
  card: ProblemCard;
  projectDir: string;
  /** Require API keys (default true); false serves the default tenant without keys (`--no-auth`, local use). */
  auth?: boolean;
  limits?: Partial<ServeLimits>;
  /** Requests per minute per tenant when the tenant sets none (default 6,000). */
  rateLimitPerMinute?: number;
  /** Share of predictions written to the prediction log, 0..1 (default 1). Usage counts are always exact. */
  logSample?: number;
  /** Logged predictions older than this many days are purged (default 30). */
  retentionDays?: number;
  /** How often the registry's aliases are polled for promotions, in ms (default 1,000). */
  pollIntervalMs?: number;
  /** Where models score: `native` TypeScript or `onnx` through onnxruntime-node (default: the card's serve.runtime). */
  runtime?: ServeRuntime;
  /** Intra-op threads of each ONNX Runtime session (default: the card's serve.onnxThreads). */
  onnxThreads?: number;
  /** Worker threads scoring ONNX batches (default: the card's serve.onnxWorkers). */
  onnxWorkers?: number;
  /** Folder where registered model versions are written before loading (default `.sapphire/cache/registry`). */
  cacheDir?: string;
  /** Keep live monitoring sketches (default: the card's `monitoring.enabled`). */
  monitoring?: boolean;
  /** Pino logger settings, or false for none (tests). */
  logger?: boolean | Record<string, unknown>;
}

/** Where served models compute their scores. */
export type ServeRuntime = 'native' | 'onnx';

/** A loaded, warmed-up model version ready to serve. */
export interface ServedModel {
  version: ModelVersion;
  model: Model;
  loadedAt: string;
}

/** The models a server holds, by tenant and reference; swaps a model when its alias moves. */
export interface ModelProvider {
  /**
   * The model a request names: `name` (production alias, else newest), `name@<version>` or `name@<alias>`;
   * loaded on first use and cached; NotFoundError for another tenant's or an unknown model.
   */
  get(tenant: string, ref: string): Promise<ServedModel>;
  /** Every model currently loaded, for `/readyz` and `/metrics`. */
  loaded(): ServedModel[];
}

/** Who is calling: the tenant and scope of the API key (or the default tenant with auth off). */
export interface Caller {
  tenant: string;
  scope: ApiKeyScope;
  /** `key:<prefix>` or `local` (auth off): recorded as who changed overrides or promoted. */
  actor: string;
}

/** The shared state route plugins receive. */
export interface ServeContext {
  options: ServeOptions;
  limits: ServeLimits;
  store: Store;
  card: ProblemCard;
  models: ModelProvider;
  metrics: ServeMetrics;
  log: RequestLog;
  /** Live sketches of served predictions, or null with monitoring off. */
  live: LiveMonitor | null;
  /** The caller of an authenticated request (set by the auth hook); throws 401 when missing. */
  caller(request: FastifyRequest): Caller;
  /** Throws 403 unless the caller's key has `admin` scope. */
  requireAdmin(request: FastifyRequest): Caller;
  /** True while the server drains before exit: `/readyz` answers 503. */
  draining: boolean;
}

/** A group of routes: registered by `buildServer` with the shared context. */
export type RoutePlugin = (app: FastifyInstance, ctx: ServeContext) => void | Promise<void>;
