/**
 * Parameter files: a little-endian float32 blob with a JSON header naming each parameter and its
 * shape, so a model directory can store its weights compactly and loading can check them by name.
 *
 * Layout: `SPRM` magic, u32 header length, UTF-8 JSON header, zero padding to a multiple of 4, then
 * each parameter's values as float32 in header order.
 */
import { DataError } from '../../../core/errors.ts';
import { type Param, sizeOf } from './tensor.ts';

const MAGIC = 'SPRM';
const VERSION = 1;

interface Header {
  version: number;
  params: { name: string; shape: number[] }[];
}

/**
 * Serialises parameter values (not gradients) to a buffer.
 *
 * @example
 * await writeFile(join(dir, 'weights.bin'), encodeParams(model.params()));
 */
export function encodeParams(params: readonly Param[]): Buffer {
  const header: Header = { version: VERSION, params: params.map((p) => ({ name: p.name, shape: p.shape })) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = 8 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  let floats = 0;
  for (const p of params) floats += p.value.length;
  const out = Buffer.alloc(dataStart + floats * 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  let at = dataStart;
  for (const p of params) {
    for (let i = 0; i < p.value.length; i++, at += 4) out.writeFloatLE(p.value[i]!, at);
  }
  return out;
}

/**
 * Loads values saved by {@link encodeParams} into `params`, matched by name; every parameter must be
 * present with the same shape. `file` names the source in errors.
 */
export function decodeParamsInto(params: readonly Param[], buf: Buffer, file = 'weights'): void {
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== MAGIC) {
    throw new DataError('not a Sapphire parameter file', {
      file,
      hint: 'the weights file is missing or damaged',
    });
  }
  const len = buf.readUInt32LE(4);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + len)) as Header;
  } catch {
    throw new DataError('the parameter file header is not valid JSON', { file, hint: 'the file is damaged' });
  }
  if (header.version !== VERSION) {
    throw new DataError(
      `parameter file version ${header.version} is not supported (this code reads ${VERSION})`,
      {
        file,
        hint: 'retrain the model or use the Sapphire version that saved it',
      },
    );
  }
  const offsets = new Map<string, { shape: number[]; at: number }>();
  let at = Math.ceil((8 + len) / 4) * 4;
  for (const h of header.params) {
    offsets.set(h.name, { shape: h.shape, at });
    at += sizeOf(h.shape) * 4;
  }
  if (at > buf.length)
    throw new DataError('the parameter file is truncated', { file, hint: 'save the model again' });
  for (const p of params) {
    const entry = offsets.get(p.name);
    if (!entry) {
      throw new DataError(`parameter ${p.name} is missing from the file`, {
        file,
        hint: 'the model configuration differs from the one that saved these weights',
      });
    }
    if (entry.shape.join('×') !== p.shape.join('×')) {
      throw new DataError(
        `parameter ${p.name} has shape ${entry.shape.join('×')} in the file, expected ${p.shape.join('×')}`,
        {
          file,
          hint: 'the model configuration (sizes, vocabulary) differs from the one that saved these weights',
        },
      );
    }
    for (let i = 0; i < p.value.length; i++) p.value[i] = buf.readFloatLE(entry.at + i * 4);
  }
}
