/**
 * Reads and writes model directories in the Hugging Face layout (`config.json` with `id2label`, `tokenizer.json`,
 * optional `tokenizer_config.json`, `onnx/model.onnx`), with one clear error per malformed file naming the file
 * and the field.
 *
 * @example
 * const files = await readHfModelDir('exports/bert-ner');
 * files.labels; // ['O', 'B-PER', 'I-PER', …] in id order
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../../core/errors.ts';
import type { TaskKind } from '../../data/types.ts';

/** The ONNX file's place in the layout (`onnx/model.onnx`, as transformers.js and optimum write it). */
export const HF_ONNX_FILE = join('onnx', 'model.onnx');
/** Where an ONNX file is also accepted (optimum's flat export). */
const FLAT_ONNX_FILE = 'model.onnx';

/** The contents of a Hugging Face model directory, read into memory and checked. */
export interface HfModelFiles {
  /** Where it was read from (for messages). */
  source: string;
  /** `config.json`, parsed. */
  config: Record<string, unknown>;
  /** `tokenizer.json`, parsed. */
  tokenizer: Record<string, unknown>;
  /** `tokenizer_config.json`, parsed, or `{}` when absent. */
  tokenizerConfig: Record<string, unknown>;
  /** The bytes of the ONNX model. */
  onnx: Uint8Array;
  /** The ONNX file's path inside the directory. */
  onnxFile: string;
  /** `id2label` in id order. */
  labels: string[];
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function readJson(
  dir: string,
  name: string,
  required: boolean,
): Promise<Record<string, unknown> | null> {
  const file = join(dir, name);
  if (!(await isFile(file))) {
    if (!required) return null;
    throw new DataError('file not found', {
      file,
      hint: 'export the model in the Hugging Face layout: config.json (with id2label), tokenizer.json and onnx/model.onnx',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new DataError(`not valid JSON: ${(cause as Error).message}`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError('must hold a JSON object', { file });
  }
  return value as Record<string, unknown>;
}

/** Reads `id2label` (`{"0": "O", "1": "B-PER"}`) into a list in id order, refusing gaps, duplicates and non-strings. */
export function readId2Label(config: Record<string, unknown>, file: string): string[] {
  const raw = config.id2label;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DataError('no "id2label" object (the label of each logit)', {
      file,
      path: 'id2label',
      hint: 'set model.config.id2label before exporting, e.g. {"0": "O", "1": "B-PER", …}',
    });
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length < 2) {
    throw new DataError('id2label needs at least two labels', { file, path: 'id2label' });
  }
  const labels: string[] = new Array(entries.length);
  for (const [key, value] of entries) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || labels[id] !== undefined) {
      throw new DataError(`key "${key}" is not one of the ids 0…${entries.length - 1}`, {
        file,
        path: `id2label.${key}`,
        hint: 'id2label keys must be the ids 0, 1, … n-1, each once',
      });
    }
    if (typeof value !== 'string' || value.length === 0) {
      throw new DataError('must be a non-empty string', {
        file,
        path: `id2label.${key}`,
      });
    }
    labels[id] = value;
  }
  const seen = new Set<string>();
  for (const [id, label] of labels.entries()) {
    if (seen.has(label)) {
      throw new DataError(`label "${label}" appears twice`, {
        file,
        path: `id2label.${id}`,
      });
    }
    seen.add(label);
  }
  return labels;
}

/**
 * Reads a Hugging Face model directory into memory, checking that every required file exists and parses and
 * that `id2label` is well formed (the tokenizer and the ONNX graph are checked when they are loaded).
 */
export async function readHfModelDir(dir: string): Promise<HfModelFiles> {
  const s = await stat(dir).catch(() => null);
  if (!s?.isDirectory()) {
    throw new DataError('not a directory', {
      file: dir,
      hint: 'pass the folder holding config.json, tokenizer.json and onnx/model.onnx',
    });
  }
  const config = (await readJson(dir, 'config.json', true))!;
  const labels = readId2Label(config, join(dir, 'config.json'));
  const tokenizer = (await readJson(dir, 'tokenizer.json', true))!;
  const tokenizerConfig = (await readJson(dir, 'tokenizer_config.json', false)) ?? {};
  let onnxFile = HF_ONNX_FILE;
  if (!(await isFile(join(dir, onnxFile)))) {
    if (!(await isFile(join(dir, FLAT_ONNX_FILE)))) {
      throw new DataError('file not found', {
        file: join(dir, HF_ONNX_FILE),
        hint: 'export the model to ONNX (e.g. `optimum-cli export onnx` or torch.onnx.export) into onnx/model.onnx',
      });
    }
    onnxFile = FLAT_ONNX_FILE;
  }
  const onnx = new Uint8Array(await readFile(join(dir, onnxFile)));
  return { source: dir, config, tokenizer, tokenizerConfig, onnx, onnxFile, labels };
}

/** Writes the files of a Hugging Face model directory (always with the ONNX file at `onnx/model.onnx`). */
export async function writeHfModelDir(files: HfModelFiles, dir: string): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(files.config, null, 2)}\n`);
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(files.tokenizerConfig, null, 2)}\n`);
  await writeFile(join(dir, HF_ONNX_FILE), files.onnx);
}

/**
 * The task a config describes: `architectures` ending in `ForTokenClassification` → `ner`,
 * `ForSequenceClassification` → `classify` (`multilabel` with `problem_type: multi_label_classification`); null when unknown.
 */
export function taskOfConfig(config: Record<string, unknown>): TaskKind | null {
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  if (archs.some((a) => a.endsWith('ForTokenClassification'))) return 'ner';
  if (archs.some((a) => a.endsWith('ForSequenceClassification'))) {
    return config.problem_type === 'multi_label_classification' ? 'multilabel' : 'classify';
  }
  return null;
}

/**
 * The longest input the model takes, special tokens included: the smallest of `config.json`'s
 * `max_position_embeddings`, `tokenizer_config.json`'s `model_max_length` and `tokenizer.json`'s
 * `truncation.max_length` that are set (512 when none is).
 */
export function maxLengthOf(files: HfModelFiles): number {
  const candidates = [
    files.config.max_position_embeddings,
    files.tokenizerConfig.model_max_length,
    (files.tokenizer.truncation as { max_length?: unknown } | null | undefined)?.max_length,
  ].filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 2 && v < 1e7);
  return candidates.length > 0 ? Math.min(...candidates) : 512;
}
