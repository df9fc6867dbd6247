import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LiveGaugeValues } from '../monitor/live-gauges.ts';
import type { OverrideAction } from '../store/serving-store.ts';
import type { ServedResult } from './overrides-engine.ts';

/** Latency buckets in seconds: sub-millisecond to a few seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Batch-size buckets: powers of two up to the default batch limit and beyond. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** Confidence buckets over [0, 1]. */
const CONFIDENCE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

/** Labels of one served request. */
export interface RequestLabels {
  tenant: string;
  model: string;
  version: number;
}

interface RequestSeries {
  requests: Counter.Internal;
  duration: Histogram.Internal<'model' | 'version'>;
  batch: Histogram.Internal<'model' | 'version'>;
}

/**
 * Prometheus metrics of one server, in a registry of its own (two servers in one process never mix their
 * series): requests and latency per model and version, errors, batch sizes, label distribution, confidences,
 * override hits and feedback.
 *
 * @example
 * const metrics = new ServeMetrics();
 * metrics.observeRequest({ tenant: 'default', model: 'intents', version: 3 }, 0.002, 1);
 * const text = await metrics.render(); // includes sapphire_requests_total{tenant="default",…} 1
 */
export class ServeMetrics {
  /** The registry holding every series of this server. */
  readonly registry = new Registry();
  private readonly requests: Counter<'tenant' | 'model' | 'version'>;
  private readonly duration: Histogram<'model' | 'version'>;
  private readonly batchSize: Histogram<'model' | 'version'>;
  private readonly errors: Counter<'route' | 'code' | 'status'>;
  private readonly labels: Counter<'model' | 'version' | 'label'>;
  private readonly confidence: Histogram<'model' | 'version'>;
  private readonly overrideHits: Counter<'model' | 'rule' | 'action'>;
  private readonly feedbackCount: Counter<'model' | 'version' | 'rating'>;
  private readonly modelsLoadedGauge: Gauge;
  private readonly modelLoadErrors: Counter<'tenant' | 'model' | 'version'>;
  private readonly driftScore: Gauge<'tenant' | 'model' | 'version' | 'signal'>;
  private readonly driftDetected: Gauge<'tenant' | 'model' | 'version' | 'signal'>;
  private readonly liveItems: Gauge<'tenant' | 'model' | 'version'>;
  private readonly liveOov: Gauge<'tenant' | 'model' | 'version'>;
  private readonly profileMissing: Gauge<'tenant' | 'model' | 'version'>;
  private readySource: () => boolean = () => true;
  private liveSource: (() => Promise<LiveGaugeValues[]>) | null = null;
  private bucketSource: () => number = () => 0;
  private liveSnapshot: { at: number; rows: Promise<LiveGaugeValues[]> } | null = null;
  /** Labelled children of the per-request series, cached so the hot path skips prom-client's label hashing. */
  private readonly series = new Map<string, RequestSeries>();
  private readonly labelChildren = new Map<string, Counter.Internal>();
  private readonly confidenceChildren = new Map<string, Histogram.Internal<'model' | 'version'>>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'sapphire_requests_total',
      help: 'Predict requests served, per tenant, model and version.',
      labelNames: ['tenant', 'model', 'version'],
      registers,
    });
    this.duration = new Histogram({
      name: 'sapphire_request_duration_seconds',
      help: 'Time to answer a predict request, per model and version.',
      labelNames: ['model', 'version'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'sapphire_batch_size',
      help: 'Texts per predict request.',
      labelNames: ['model', 'version'],
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: 'sapphire_errors_total',
      help: 'Error responses, per route, error code and HTTP status.',
      labelNames: ['route', 'code', 'status'],
      registers,
    });
    this.labels = new Counter({
      name: 'sapphire_predicted_labels_total',
      help: 'Labels (classes or entity types) in served answers, after overrides.',
      labelNames: ['model', 'version', 'label'],
      registers,
    });
    this.confidence = new Histogram({
      name: 'sapphire_prediction_confidence',
      help: 'Confidence of each served label or entity.',
      labelNames: ['model', 'version'],
      buckets: CONFIDENCE_BUCKETS,
      registers,
    });
    this.overrideHits = new Counter({
      name: 'sapphire_override_hits_total',
      help: 'Times an override rule changed a served answer (overrides are a smell to reduce).',
      labelNames: ['model', 'rule', 'action'],
      registers,
    });
    this.feedbackCount = new Counter({
      name: 'sapphire_feedback_total',
      help: 'Feedback received, per model, version and rating (none: a correction without a rating).',
      labelNames: ['model', 'version', 'rating'],
      registers,
    });
    this.modelsLoadedGauge = new Gauge({
      name: 'sapphire_models_loaded',
      help: 'Model versions loaded and warmed up in this server.',
      registers,
    });
    this.modelLoadErrors = new Counter({
      name: 'sapphire_model_load_errors_total',
      help: 'Model versions that failed to load or warm up (the previous version keeps serving).',
      labelNames: ['tenant', 'model', 'version'],
      registers,
    });
    const self = this;
    // Gauges read at scrape time: registered in the registry, never touched otherwise.
    new Gauge({
      name: 'sapphire_ready',
      help: 'Whether /readyz answers 200: production models loaded and warmed up, not draining (1 or 0).',
      registers,
      collect() {
        this.set(self.readySource() ? 1 : 0);
      },
    });
    this.driftScore = new Gauge({
      name: 'sapphire_drift_score',
      help: 'Drift signal of a served model version over the monitoring window vs its reference profile (label_psi, label_js, length_psi, confidence_shift, oov_shift, new_tokens, new_entities).',
      labelNames: ['tenant', 'model', 'version', 'signal'],
      registers,
      async collect() {
        await self.collectLive();
      },
    });
    this.driftDetected = new Gauge({
      name: 'sapphire_drift_detected',
      help: 'Whether a drift signal is over its threshold in sapphire.yaml monitoring.drift, with at least monitoring.minSamples predictions (1 or 0).',
      labelNames: ['tenant', 'model', 'version', 'signal'],
      registers,
      async collect() {
        await self.collectLive();
      },
    });
    this.liveItems = new Gauge({
      name: 'sapphire_live_predictions',
      help: 'Predictions of a model version in the monitoring window, over every replica (from the live sketches).',
      labelNames: ['tenant', 'model', 'version'],
      registers,
      async collect() {
        await self.collectLive();
      },
    });
    this.liveOov = new Gauge({
      name: 'sapphire_live_oov_rate',
      help: 'Share of tokens in the monitoring window not in the model version training vocabulary.',
      labelNames: ['tenant', 'model', 'version'],
      registers,
      async collect() {
        await self.collectLive();
      },
    });
    this.profileMissing = new Gauge({
      name: 'sapphire_reference_profile_missing',
      help: 'A served model version saved without a reference profile (1): drift cannot be judged; retrain it.',
      labelNames: ['tenant', 'model', 'version'],
      registers,
      async collect() {
        await self.collectLive();
      },
    });
    new Gauge({
      name: 'sapphire_monitoring_sketch_buckets',
      help: 'Live monitoring sketch buckets held in memory (bounded by retention / bucket width per version).',
      registers,
      collect() {
        this.set(self.bucketSource());
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Where `sapphire_ready` reads readiness from. */
  setReadySource(source: () => boolean): void {
    this.readySource = source;
  }

  /** Where the drift and live gauges read their rows from (computed at most once a second, at scrape time). */
  setLiveSource(source: () => Promise<LiveGaugeValues[]>, buckets: () => number): void {
    this.liveSource = source;
    this.bucketSource = buckets;
  }

  private async collectLive(): Promise<void> {
    if (!this.liveSource) return;
    const now = Date.now();
    if (!this.liveSnapshot || now - this.liveSnapshot.at > 1000)
      this.liveSnapshot = { at: now, rows: this.liveSource() };
    let rows: LiveGaugeValues[];
    try {
      rows = await this.liveSnapshot.rows;
    } catch {
      this.liveSnapshot = null;
      return;
    }
    this.driftScore.reset();
    this.driftDetected.reset();
    this.liveItems.reset();
    this.liveOov.reset();
    this.profileMissing.reset();
    for (const row of rows) {
      const labels = { tenant: row.tenant, model: row.model, version: String(row.version) };
      this.liveItems.set(labels, row.items);
      this.profileMissing.set(labels, row.hasProfile ? 0 : 1);
      if (row.oovRate !== null) this.liveOov.set(labels, row.oovRate);
      for (const [signal, value] of Object.entries(row.signals))
        this.driftScore.set({ ...labels, signal }, value);
      for (const [signal, value] of Object.entries(row.drifted))
        this.driftDetected.set({ ...labels, signal }, value);
    }
  }

  private seriesFor(labels: RequestLabels): RequestSeries {
    const key = `${labels.tenant}\u0000${labels.model}\u0000${labels.version}`;
    let series = this.series.get(key);
    if (!series) {
      const version = String(labels.version);
      series = {
        requests: this.requests.labels(labels.tenant, labels.model, version),
        duration: this.duration.labels(labels.model, version),
        batch: this.batchSize.labels(labels.model, version),
      };
      this.series.set(key, series);
    }
    return series;
  }

  /** Counts one predict request with its latency and number of texts. */
  observeRequest(labels: RequestLabels, seconds: number, items: number): void {
    const series = this.seriesFor(labels);
    series.requests.inc();
    series.duration.observe(seconds);
    series.batch.observe(items);
  }

  /** Counts one error response. */
  observeError(route: string, code: string, status: number): void {
    this.errors.inc({ route, code, status: String(status) });
  }

  /** Counts the labels of one served answer and observes their confidences. */
  observeResult(model: string, version: number, result: ServedResult): void {
    const items = result.labels ?? result.entities;
    if (!items || items.length === 0) return;
    const prefix = `${model}\u0000${version}`;
    let confidence = this.confidenceChildren.get(prefix);
    if (!confidence) {
      confidence = this.confidence.labels(model, String(version));
      this.confidenceChildren.set(prefix, confidence);
    }
    for (const item of items) {
      const k = `${prefix}\u0000${item.label}`;
      let counter = this.labelChildren.get(k);
      if (!counter) {
        counter = this.labels.labels(model, String(version), item.label);
        this.labelChildren.set(k, counter);
      }
      counter.inc();
      confidence.observe(item.score);
    }
  }

  /** Counts one override hit. */
  overrideHit(model: string, ruleId: string, action: OverrideAction): void {
    this.overrideHits.inc({ model, rule: ruleId, action });
  }

  /** Counts one feedback item (`none` when it carries only a correction). */
  feedback(model: string, version: number | null, rating: 'up' | 'down' | 'none'): void {
    this.feedbackCount.inc({ model, version: version === null ? '' : String(version), rating });
  }

  /** Sets how many model versions are loaded. */
  modelsLoaded(count: number): void {
    this.modelsLoadedGauge.set(count);
  }

  /** Counts a model version that failed to load or warm up. */
  modelLoadFailed(tenant: string, model: string, version: number): void {
    this.modelLoadErrors.inc({ tenant, model, version: String(version) });
  }

  /** The Prometheus text exposition of every series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content type of {@link render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
