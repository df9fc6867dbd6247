import { SapphireError } from '../../core/errors.ts';

/** One item of a {@link SpaceSaving} summary: `count` overestimates the true count by at most `error`. */
export interface HeavyHitter {
  item: string;
  /** Upper bound of the true count. */
  count: number;
  /** Maximum overestimation: the true count lies in `[count - error, count]`. */
  error: number;
}

/** Serialisable state of a {@link SpaceSaving} summary. */
export interface SpaceSavingState {
  capacity: number;
  /** Items counted in total (the stream length N). */
  total: number;
  /** `[item, count, error]` triples. */
  items: [string, number, number][];
}

/**
 * Space-Saving heavy hitters (Metwally, Agrawal, El Abbadi 2005) with a min-heap: at most `capacity` counters; an
 * unseen item takes over the smallest counter. Every count is an upper bound with its own error (true count in
 * `[count − error, count]`), every error is at most N / capacity, and any item with true count above N / capacity
 * is in the summary. While fewer than `capacity` distinct items were seen, counts are exact (error 0). Summaries
 * merge (Agarwal et al. 2012): counts add, an item missing from a full summary is charged that summary's minimum,
 * and the top `capacity` are kept — the bounds stay valid for the combined stream.
 *
 * @example
 * const top = new SpaceSaving(64);
 * for (const label of labels) top.add(label);
 * top.top(5); // [{ item: 'card_arrival', count: 412, error: 0 }, …]
 */
export class SpaceSaving {
  readonly capacity: number;
  private total = 0;
  /**
   * Whether the slots form a min-heap (smallest count at index 0). Only a full summary needs its minimum, so the
   * slots are heapified when the last one fills and kept in insertion order before: counting an item that is
   * already held is then one map lookup, without sifting.
   */
  private heaped = false;
  /** Slots: a heap once full (see `heaped`). */
  private items: string[] = [];
  private counts: number[] = [];
  private errors: number[] = [];
  /** item → heap index. */
  private readonly index = new Map<string, number>();

  constructor(capacity = 64) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new SapphireError(
        'BAD_INPUT',
        `Space-Saving capacity must be a positive integer, got ${capacity}`,
      );
    this.capacity = capacity;
  }

  /** Items counted so far (N). */
  get n(): number {
    return this.total;
  }

  /** Distinct items held (at most `capacity`). */
  get size(): number {
    return this.items.length;
  }

  /** The largest possible overestimation of any count: the smallest counter when full, else 0. */
  get maxError(): number {
    return this.items.length < this.capacity ? 0 : (this.counts[0] ?? 0);
  }

  /** Counts `weight` occurrences of an item (default 1). */
  add(item: string, weight = 1): void {
    this.total += weight;
    const at = this.index.get(item);
    if (at !== undefined) {
      this.counts[at]! += weight;
      if (this.heaped) this.siftDown(at);
      return;
    }
    if (this.items.length < this.capacity) {
      this.index.set(item, this.items.length);
      this.items.push(item);
      this.counts.push(weight);
      this.errors.push(0);
      if (this.items.length === this.capacity) this.heapify();
      return;
    }
    // Take over the smallest counter: its count becomes this item's maximum overestimation.
    const min = this.counts[0]!;
    this.index.delete(this.items[0]!);
    this.items[0] = item;
    this.counts[0] = min + weight;
    this.errors[0] = min;
    this.index.set(item, 0);
    this.siftDown(0);
  }

  /** The estimate of one item: its counter, or (absent) 0..maxError. */
  estimate(item: string): HeavyHitter {
    const at = this.index.get(item);
    if (at === undefined) return { item, count: this.maxError, error: this.maxError };
    return { item, count: this.counts[at]!, error: this.errors[at]! };
  }

  /** The `k` largest counters (all by default), largest first, ties by item. */
  top(k = this.capacity): HeavyHitter[] {
    const out: HeavyHitter[] = this.items.map((item, i) => ({
      item,
      count: this.counts[i]!,
      error: this.errors[i]!,
    }));
    out.sort((a, b) => b.count - a.count || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
    return out.slice(0, k);
  }

  /** Adds another summary's stream into this one (see the class comment for the bounds). */
  merge(other: SpaceSaving): this {
    const mineFull = this.items.length >= this.capacity;
    const otherFull = other.items.length >= other.capacity;
    const myMin = mineFull ? this.maxError : 0;
    const otherMin = otherFull ? other.maxError : 0;
    const merged = new Map<string, [number, number]>();
    for (let i = 0; i < this.items.length; i++) {
      const e = other.index.get(this.items[i]!);
      merged.set(
        this.items[i]!,
        e === undefined
          ? [this.counts[i]! + otherMin, this.errors[i]! + otherMin]
          : [this.counts[i]! + other.counts[e]!, this.errors[i]! + other.errors[e]!],
      );
    }
    for (let i = 0; i < other.items.length; i++) {
      const item = other.items[i]!;
      if (!merged.has(item)) merged.set(item, [other.counts[i]! + myMin, other.errors[i]! + myMin]);
    }
    const total = this.total + other.total;
    this.load(
      total,
      [...merged].map(([item, [count, error]]) => [item, count, error]),
    );
    return this;
  }

  /** The state as JSON-safe data. */
  toState(): SpaceSavingState {
    return {
      capacity: this.capacity,
      total: this.total,
      items: this.items.map((item, i) => [item, this.counts[i]!, this.errors[i]!]),
    };
  }

  /** A summary from {@link toState}'s output; BAD_INPUT when the state is malformed. */
  static fromState(state: SpaceSavingState): SpaceSaving {
    if (!state || !Array.isArray(state.items) || typeof state.total !== 'number')
      throw new SapphireError('BAD_INPUT', 'malformed Space-Saving state: expected {capacity, total, items}');
    const summary = new SpaceSaving(state.capacity);
    summary.load(state.total, state.items);
    return summary;
  }

  /** Replaces the contents with these counters (largest `capacity` kept) and rebuilds the heap. */
  private load(total: number, entries: [string, number, number][]): void {
    const kept =
      entries.length > this.capacity
        ? [...entries].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, this.capacity)
        : entries;
    this.total = total;
    this.items = kept.map((e) => e[0]);
    this.counts = kept.map((e) => e[1]);
    this.errors = kept.map((e) => e[2]);
    this.index.clear();
    for (let i = 0; i < this.items.length; i++) this.index.set(this.items[i]!, i);
    this.heaped = false;
    if (this.items.length >= this.capacity) this.heapify();
  }

  /** Orders the slots as a min-heap (from then on every change keeps them one). */
  private heapify(): void {
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.heaped = true;
  }

  /** Moves slot `i` down to its place (a hole moves down: one index update per level, not two). */
  private siftDown(i: number): void {
    const items = this.items;
    const counts = this.counts;
    const errors = this.errors;
    const n = counts.length;
    const item = items[i]!;
    const count = counts[i]!;
    const error = errors[i]!;
    let moved = false;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && counts[r]! < counts[l]! ? r : l;
      if (count <= counts[child]!) break;
      items[i] = items[child]!;
      counts[i] = counts[child]!;
      errors[i] = errors[child]!;
      this.index.set(items[i]!, i);
      i = child;
      moved = true;
    }
    if (!moved) return;
    items[i] = item;
    counts[i] = count;
    errors[i] = error;
    this.index.set(item, i);
  }
}
