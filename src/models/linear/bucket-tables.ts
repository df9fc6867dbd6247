const EMPTY = -1;

function slotHash(key: number, mask: number): number {
  return (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
}

/**
 * Dense ids for non-negative integer keys (hash buckets), by open addressing: compact enough to stay in cache,
 * unlike a dense array over the whole hashing space. Ids run 0, 1, 2… in insertion order.
 */
export class IntIdTable {
  private keys: Int32Array;
  private ids: Int32Array;
  private order: Int32Array;
  private slots: Int32Array;
  /** Number of keys inserted. */
  size = 0;

  /** An empty table sized for about `expected` keys (it grows as needed). */
  constructor(expected = 256) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.ids = new Int32Array(capacity);
    this.order = new Int32Array(capacity >> 1);
    this.slots = new Int32Array(capacity >> 1);
  }

  /** The id of `key`, inserting it (with the next id) when absent. */
  id(key: number): number {
    const mask = this.keys.length - 1;
    let slot = slotHash(key, mask);
    for (;;) {
      const k = this.keys[slot]!;
      if (k === key) return this.ids[slot]!;
      if (k === EMPTY) break;
      slot = (slot + 1) & mask;
    }
    const id = this.size++;
    this.keys[slot] = key;
    this.ids[slot] = id;
    this.order[id] = key;
    this.slots[id] = slot;
    if (this.size * 2 > this.keys.length) this.grow();
    return id;
  }

  /** The id of `key`, or -1 when absent. */
  find(key: number): number {
    const mask = this.keys.length - 1;
    let slot = slotHash(key, mask);
    for (;;) {
      const k = this.keys[slot]!;
      if (k === key) return this.ids[slot]!;
      if (k === EMPTY) return -1;
      slot = (slot + 1) & mask;
    }
  }

  /** The key that got id `id`. */
  keyOf(id: number): number {
    return this.order[id]!;
  }

  /** Removes every key (cost proportional to the number of keys, not the capacity). */
  clear(): void {
    for (let id = 0; id < this.size; id++) this.keys[this.slots[id]!] = EMPTY;
    this.size = 0;
  }

  private grow(): void {
    const n = this.size;
    const order = this.order;
    const capacity = this.keys.length * 2;
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.ids = new Int32Array(capacity);
    this.order = new Int32Array(capacity >> 1);
    this.slots = new Int32Array(capacity >> 1);
    this.order.set(order.subarray(0, n));
    const mask = capacity - 1;
    for (let id = 0; id < n; id++) {
      let slot = slotHash(order[id]!, mask);
      while (this.keys[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.keys[slot] = order[id]!;
      this.ids[slot] = id;
      this.slots[id] = slot;
    }
  }
}

/** Counts occurrences of non-negative integer keys (the hash buckets of one text), in first-seen order. */
export class BucketCounter {
  private readonly table = new IntIdTable(256);
  private counts = new Float32Array(256);

  /** Number of distinct keys counted so far. */
  get size(): number {
    return this.table.size;
  }

  /** Adds one occurrence of `bucket`. */
  add(bucket: number): void {
    const id = this.table.id(bucket);
    if (id >= this.counts.length) {
      const grown = new Float32Array(this.counts.length * 2);
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[id]! += 1;
  }

  /** Copies keys (first-seen order) and counts into the arrays from `offset`, then empties the counter. */
  drain(buckets: Int32Array, counts: Float32Array, offset: number): void {
    const n = this.table.size;
    for (let id = 0; id < n; id++) {
      buckets[offset + id] = this.table.keyOf(id);
      counts[offset + id] = this.counts[id]!;
    }
    this.counts.fill(0, 0, n);
    this.table.clear();
  }
}
