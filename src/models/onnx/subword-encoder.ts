/**
 * Sub-word encoding of words for imported transformer models, over `@huggingface/tokenizers` (pure JS WordPiece,
 * BPE and Unigram from a `tokenizer.json`). That library returns ids but no character offsets, so Sapphire
 * encodes word by word (like Hugging Face's `is_split_into_words=True`): every sub-token then knows its word, and
 * every word knows its character offsets from Sapphire's own tokens (ADR 0009).
 *
 * @example
 * const enc = SubwordEncoder.fromJson(tokenizerJson, {}, 'tokenizer.json');
 * enc.encodeWord('unaffable', 'first'); // [14477, 20961, 3468] ('una', '##ffa', '##ble')
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { DataError } from '../../core/errors.ts';
import type { Token } from '../../data/types.ts';

/** Where a word sits in its text: the first word, after whitespace, or glued to the previous word (`world` + `,`). */
export type WordPosition = 'first' | 'spaced' | 'glued';

/** The position of word `i` among `words` (tokens with character offsets). */
export function wordPosition(words: readonly Token[], i: number): WordPosition {
  if (i === 0) return 'first';
  return words[i]!.start > words[i - 1]!.end ? 'spaced' : 'glued';
}

/** Tokenizer model types Sapphire can align to words. */
export const SUPPORTED_TOKENIZER_MODELS = ['WordPiece', 'BPE', 'Unigram'] as const;

/** A `tokenizer.json` loaded for word-by-word encoding, with the special tokens its post-processor adds. */
export class SubwordEncoder {
  /** Ids the post-processor puts before a single sequence (e.g. `[CLS]`). */
  readonly prefix: number[];
  /** Ids the post-processor puts after a single sequence (e.g. `[SEP]`). */
  readonly suffix: number[];
  /** The padding id (`[PAD]`, `<pad>`, else 0). */
  readonly padId: number;
  /** Whether a word preceded by a space is encoded with that space (byte-level BPE, `Ġword`). */
  private readonly spaceMarksWords: boolean;
  /** Metaspace (SentencePiece) tokenizers: a copy that does not prepend `▁`, for words glued to the previous one. */
  private readonly glued: Tokenizer | null;
  private readonly cache = new Map<string, number[]>();

  private constructor(
    private readonly tokenizer: Tokenizer,
    json: Record<string, unknown>,
    config: Record<string, unknown>,
    file: string,
  ) {
    const probe = 'a';
    const bare = tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const full = tokenizer.encode(probe, { add_special_tokens: true }).ids;
    const at = indexOfRun(full, bare);
    if (bare.length === 0 || at < 0) {
      throw new DataError("the post-processor does not keep the text's own tokens in one run", {
        file,
        path: 'post_processor',
        hint: 'use a tokenizer.json whose post-processor adds special tokens around the text (BERT, RoBERTa, T5 templates)',
      });
    }
    this.prefix = full.slice(0, at);
    this.suffix = full.slice(at + bare.length);
    const vocab = tokenizer.get_vocab(true);
    const padding = json.padding as { pad_id?: unknown } | null | undefined;
    this.padId =
      typeof padding?.pad_id === 'number'
        ? padding.pad_id
        : (vocab.get('[PAD]') ?? vocab.get('<pad>') ?? vocab.get('<PAD>') ?? 0);
    const pre = JSON.stringify(json.pre_tokenizer ?? null);
    this.spaceMarksWords = pre.includes('"ByteLevel"');
    this.glued = pre.includes('"Metaspace"')
      ? new Tokenizer({ ...json, pre_tokenizer: withoutPrefixSpace(json.pre_tokenizer) }, config)
      : null;
  }

  /**
   * Loads a parsed `tokenizer.json` (and `tokenizer_config.json`, or `{}`); `file` names it in errors.
   * Refuses tokenizer models other than WordPiece, BPE and Unigram with the field that says so.
   */
  static fromJson(json: unknown, config: unknown, file: string): SubwordEncoder {
    return SubwordEncoder.build(json, isRecord(config) ? config : {}, file);
  }

  private static build(json: unknown, config: Record<string, unknown>, file: string): SubwordEncoder {
    if (!isRecord(json)) throw new DataError('must hold a JSON object', { file });
    const model = json.model;
    if (!isRecord(model)) {
      throw new DataError('no "model" object', {
        file,
        path: 'model',
        hint: 'save the tokenizer with tokenizer.save_pretrained() (the fast tokenizer writes tokenizer.json)',
      });
    }
    const type = model.type ?? (model.vocab && model.merges ? 'BPE' : undefined);
    if (!SUPPORTED_TOKENIZER_MODELS.includes(type as never)) {
      throw new DataError(`unsupported tokenizer model type ${JSON.stringify(type ?? null)}`, {
        file,
        path: 'model.type',
        hint: `Sapphire aligns ${SUPPORTED_TOKENIZER_MODELS.join(', ')} tokenizers; export the model with one of them`,
      });
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, config);
    } catch (cause) {
      throw new DataError(`could not be loaded as a tokenizer: ${String(cause)}`, {
        file,
        hint: 'check that the file was written by the Hugging Face tokenizers library',
      });
    }
    return new SubwordEncoder(tokenizer, json, config, file);
  }

  /**
   * Sub-token ids of one word, without special tokens, as the tokenizer would split it in running text: byte-level
   * BPE encodes a word after a space as ` word` (`Ġword`), and SentencePiece (Metaspace) gives no `▁` to a word
   * glued to the previous one (`world` + `,`).
   */
  encodeWord(word: string, position: WordPosition = 'spaced'): number[] {
    const glue = position === 'glued' && this.glued !== null;
    const text = this.spaceMarksWords && position === 'spaced' ? ` ${word}` : word;
    const key = glue ? `\u0000${text}` : text;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const ids = (glue ? this.glued! : this.tokenizer).encode(text, { add_special_tokens: false }).ids;
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(key, ids);
    return ids;
  }

  /** Sub-token ids of a whole text, without special tokens (for sequence classification). */
  encodeText(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** The ids of a text encoded the library's way, with special tokens (for checking the word-by-word path). */
  encodeWhole(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }
}

/** A pre-tokenizer config with every Metaspace step set not to prepend `▁`. */
function withoutPrefixSpace(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutPrefixSpace);
  if (!isRecord(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = withoutPrefixSpace(v);
  if (node.type === 'Metaspace') {
    out.prepend_scheme = 'never';
    out.add_prefix_space = false;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function indexOfRun(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
