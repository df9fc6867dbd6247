import { DDSketch } from '@datadog/sketches-js';
import { SapphireError } from '../../core/errors.ts';

/** Relative accuracy of every {@link QuantileSketch}: a reported quantile is within ±1% of the true value. */
export const QUANTILE_RELATIVE_ACCURACY = 0.01;

/** Serialisable state of a {@link QuantileSketch}: Datadog's DDSketch protobuf as base64, with the summary statistics the protobuf leaves out. */
export interface QuantileSketchState {
  ddsketch: string;
  sum: number;
  min: number | null;
  max: number | null;
}

/** Quantiles read to estimate a cumulative distribution (1% steps). */
const CDF_GRID = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);

/**
 * A mergeable quantile sketch over non-negative values: Datadog's DDSketch (Masson, Rim, Lee 2019, the maintained
 * `@datadog/sketches-js`) with 1% relative accuracy — `quantile(q)` is within ±1% of the exact q-quantile's value,
 * whatever the distribution — in a few hundred logarithmic buckets. Merging adds bucket counts, so merged sketches
 * answer exactly as one sketch over both streams would.
 *
 * @example
 * const lengths = new QuantileSketch();
 * for (const n of tokenCounts) lengths.add(n);
 * lengths.quantile(0.99); // p99 length, ±1%
 */
export class QuantileSketch {
  private sketch: DDSketch;

  constructor(sketch?: DDSketch) {
    this.sketch = sketch ?? new DDSketch({ relativeAccuracy: QUANTILE_RELATIVE_ACCURACY });
  }

  /** Observes one value (negative values and NaN count as 0). */
  add(value: number): void {
    this.sketch.accept(Number.isNaN(value) ? 0 : Math.max(0, value));
  }

  /** Values observed. */
  get count(): number {
    return this.sketch.count;
  }

  /** Exact mean of the values observed (null when empty). */
  get mean(): number | null {
    return this.sketch.count > 0 ? this.sketch.sum / this.sketch.count : null;
  }

  /** The q-quantile (0..1) within ±1% relative error, or null when empty. */
  quantile(q: number): number | null {
    if (this.sketch.count === 0) return null;
    return this.sketch.getValueAtQuantile(Math.min(1, Math.max(0, q)));
  }

  /**
   * The share of values ≤ x, estimated from the quantiles at 1% steps (so within about ±1% of rank, plus the
   * values' ±1% relative error), or null when empty.
   */
  cdf(x: number): number | null {
    if (this.sketch.count === 0) return null;
    let below = 0;
    for (const q of CDF_GRID) if (this.sketch.getValueAtQuantile(q) <= x) below = q;
    if (this.sketch.max <= x) return 1;
    if (this.sketch.min > x) return 0;
    return below;
  }

  /** Adds another sketch's values into this one. */
  merge(other: QuantileSketch): this {
    if (other.sketch.count > 0) this.sketch.merge(other.sketch);
    return this;
  }

  /** The state as JSON-safe data. */
  toState(): QuantileSketchState {
    const empty = this.sketch.count === 0;
    return {
      ddsketch: Buffer.from(this.sketch.toProto()).toString('base64'),
      sum: this.sketch.sum,
      min: empty ? null : this.sketch.min,
      max: empty ? null : this.sketch.max,
    };
  }

  /** A sketch from {@link toState}'s output; BAD_INPUT when the state is malformed. */
  static fromState(state: QuantileSketchState): QuantileSketch {
    if (!state || typeof state.ddsketch !== 'string' || typeof state.sum !== 'number')
      throw new SapphireError(
        'BAD_INPUT',
        'malformed quantile sketch state: expected {ddsketch: base64, sum, min, max}',
      );
    const sketch = DDSketch.fromProto(Buffer.from(state.ddsketch, 'base64'));
    // fromProto keeps the bins and the count; the summary statistics come from the state.
    sketch.sum = state.sum;
    if (state.min !== null) sketch.min = state.min;
    if (state.max !== null) sketch.max = state.max;
    return new QuantileSketch(sketch);
  }
}
