import { tokenize } from '../../text/tokenizer.ts';

interface TrieNode {
  children: Map<string, TrieNode>;
  terminal: boolean;
}

/** Where a token sits in a gazetteer match: outside, first token, or a following token. */
export const GAZ_OUTSIDE = 0;
/** The token starts a listed phrase. */
export const GAZ_BEGIN = 1;
/** The token continues a listed phrase. */
export const GAZ_INSIDE = 2;

/** A phrase list matched over token sequences (longest match first, left to right, no overlaps). */
export class Gazetteer {
  private readonly root: TrieNode = { children: new Map(), terminal: false };

  constructor(
    readonly name: string,
    phrases: readonly string[],
    readonly caseSensitive: boolean,
  ) {
    for (const phrase of phrases) {
      const words = tokenize(phrase).map((t) => this.key(t.text));
      if (words.length === 0) continue;
      let node = this.root;
      for (const w of words) {
        let next = node.children.get(w);
        if (!next) {
          next = { children: new Map(), terminal: false };
          node.children.set(w, next);
        }
        node = next;
      }
      node.terminal = true;
    }
  }

  private key(word: string): string {
    return this.caseSensitive ? word : word.toLowerCase();
  }

  /** Marks every token with GAZ_OUTSIDE, GAZ_BEGIN or GAZ_INSIDE. */
  match(tokens: readonly string[]): Uint8Array {
    const out = new Uint8Array(tokens.length);
    const keys = tokens.map((t) => this.key(t));
    let i = 0;
    while (i < keys.length) {
      let node: TrieNode | undefined = this.root;
      let best = 0;
      for (let j = i; j < keys.length; j++) {
        node = node.children.get(keys[j]!);
        if (!node) break;
        if (node.terminal) best = j - i + 1;
      }
      if (best > 0) {
        out[i] = GAZ_BEGIN;
        for (let k = i + 1; k < i + best; k++) out[k] = GAZ_INSIDE;
        i += best;
      } else i++;
    }
    return out;
  }
}
