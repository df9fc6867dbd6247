/**
 * Sub-word encoding of words for imported transformer models, over `@huggingface/tokenizers` (pure JS WordPiece,
 * BPE and Unigram from a `tokenizer.json`). That library returns ids but no character offsets, so Sapphire
 * encodes word by word (like Hugging Face's `is_split_into_words=True`): every sub-token then knows its word, and
 * every word knows its character offsets from Sapphire's own tokens (ADR 0009).
 *
 * @example
 * const enc = SubwordEncoder.fromJson(tokenizerJson, {}, 'tokenizer.json');
 * enc.encodeWord('unaffable', false); // [14477, 20961, 3468] ('una', '##ffa', '##ble')
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { DataError } from '../../core/errors.ts';

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
  private readonly cache = new Map<string, number[]>();

  private constructor(
    private readonly tokenizer: Tokenizer,
    json: Record<string, unknown>,
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
    this.spaceMarksWords = JSON.stringify(json.pre_tokenizer ?? null).includes('"ByteLevel"');
  }

  /**
   * Loads a parsed `tokenizer.json` (and `tokenizer_config.json`, or `{}`); `file` names it in errors.
   * Refuses tokenizer models other than WordPiece, BPE and Unigram with the field that says so.
   */
  static fromJson(json: unknown, config: unknown, file: string): SubwordEncoder {
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
      tokenizer = new Tokenizer(json, isRecord(config) ? config : {});
    } catch (cause) {
      throw new DataError(`could not be loaded as a tokenizer: ${String(cause)}`, {
        file,
        hint: 'check that the file was written by the Hugging Face tokenizers library',
      });
    }
    return new SubwordEncoder(tokenizer, json, file);
  }

  /** Sub-token ids of one word, without special tokens; `afterSpace` tells byte-level BPE the word follows a space. */
  encodeWord(word: string, afterSpace: boolean): number[] {
    const key = this.spaceMarksWords && afterSpace ? ` ${word}` : word;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const ids = this.tokenizer.encode(key, { add_special_tokens: false }).ids;
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
