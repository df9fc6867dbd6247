interface TrieNode<T> {
  next?: Map<string, TrieNode<T>>;
  hits?: T[];
}

/**
 * A trie over token sequences: phrases are stored as lists of token keys and found at any token position in
 * time proportional to the match length, however many phrases there are (100k-phrase lists are fine).
 *
 * @example
 * const trie = new TokenTrie<string>();
 * trie.add(['new', 'york'], 'LOC');
 * trie.matchesAt(['in', 'new', 'york'], 1, (end, hits) => console.log(end, hits)); // 3 ['LOC']
 */
export class TokenTrie<T> {
  private readonly root: TrieNode<T> = {};
  private count = 0;

  /** Number of phrases added (a phrase added twice counts twice). */
  get size(): number {
    return this.count;
  }

  /** Adds a phrase (its token keys) with a payload reported when it matches; empty phrases are ignored. */
  add(keys: readonly string[], hit: T): void {
    if (keys.length === 0) return;
    let node = this.root;
    for (const key of keys) {
      node.next ??= new Map();
      let child = node.next.get(key);
      if (!child) {
        child = {};
        node.next.set(key, child);
      }
      node = child;
    }
    node.hits ??= [];
    node.hits.push(hit);
    this.count++;
  }

  /** Calls `visit(end, hits)` for every phrase that matches `keys` from index `start` (end exclusive), shortest first. */
  matchesAt(keys: readonly string[], start: number, visit: (end: number, hits: readonly T[]) => void): void {
    let node: TrieNode<T> | undefined = this.root;
    for (let i = start; i < keys.length; i++) {
      node = node.next?.get(keys[i]!);
      if (!node) return;
      if (node.hits) visit(i + 1, node.hits);
    }
  }
}
