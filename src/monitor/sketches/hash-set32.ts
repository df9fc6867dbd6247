/**
 * A set of 32-bit hashes in one open-addressing `Int32Array` (linear probing, at most half full): membership tests
 * on the live monitor's hot path without boxing the hashes as heap numbers the way a `Set<number>` of unsigned
 * 32-bit values does.
 *
 * @example
 * const vocabulary = new HashSet32(tokens.map((t) => hash32(t)));
 * vocabulary.has(hash32('card')); // true
 */
export class HashSet32 {
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** 0 marks an empty slot, so the hash 0 is kept aside. */
  private hasZero = false;
  private count = 0;

  constructor(hashes: Iterable<number>) {
    const list = [...hashes];
    let capacity = 16;
    while (capacity < list.length * 2) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (const hash of list) this.add(hash);
  }

  /** Distinct hashes held. */
  get size(): number {
    return this.count;
  }

  /** Whether the set holds this hash (signed or unsigned 32-bit: both read as the same 32 bits). */
  has(hash: number): boolean {
    const h = hash | 0;
    if (h === 0) return this.hasZero;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === h) return true;
      if (s === 0) return false;
    }
  }

  private add(hash: number): void {
    const h = hash | 0;
    if (h === 0) {
      if (!this.hasZero) this.count++;
      this.hasZero = true;
      return;
    }
    const slots = this.slots;
    let i = h & this.mask;
    while (slots[i] !== 0) {
      if (slots[i] === h) return;
      i = (i + 1) & this.mask;
    }
    slots[i] = h;
    this.count++;
  }
}
