import { DataError } from '../../core/errors.ts';

/** Writes little-endian numbers, typed arrays and string tables into a growing buffer. */
export class BinaryWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Appends raw ASCII characters (a magic tag). */
  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i) & 0x7f;
  }

  /** Appends an unsigned 32-bit integer. */
  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /** Appends every value as a 32-bit float. */
  f32(values: ArrayLike<number>): void {
    this.reserve(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat32(this.pos, values[i]!, true);
      this.pos += 4;
    }
  }

  /** Appends every value as a signed 32-bit integer. */
  i32(values: ArrayLike<number>): void {
    this.reserve(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      this.view.setInt32(this.pos, values[i]!, true);
      this.pos += 4;
    }
  }

  /** Appends a string table: count, then each string's UTF-8 byte length and bytes. */
  strings(list: readonly string[]): void {
    const enc = new TextEncoder();
    this.u32(list.length);
    for (const s of list) {
      const bytes = enc.encode(s);
      this.u32(bytes.length);
      this.reserve(bytes.length);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
    }
  }

  /** The bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Reads what {@link BinaryWriter} wrote, failing with the file name on truncated or foreign data. */
export class BinaryReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.buf.length) {
      throw new DataError(`truncated binary file (wanted ${bytes} bytes at offset ${this.pos})`, {
        file: this.file,
        hint: 'the model directory is damaged; save the model again',
      });
    }
  }

  /** Reads `length` ASCII characters and checks they equal `expected`. */
  expectAscii(expected: string): void {
    this.need(expected.length);
    let got = '';
    for (let i = 0; i < expected.length; i++) got += String.fromCharCode(this.buf[this.pos++]!);
    if (got !== expected) {
      throw new DataError(`not a Sapphire weights file (magic "${got}", expected "${expected}")`, {
        file: this.file,
        hint: 'point to a directory written by Model.save',
      });
    }
  }

  /** Reads an unsigned 32-bit integer. */
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads `n` 32-bit floats into a Float64Array. */
  f32(n: number): Float64Array {
    this.need(n * 4);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.view.getFloat32(this.pos, true);
      this.pos += 4;
    }
    return out;
  }

  /** Reads `n` 32-bit floats into a Float32Array. */
  f32Array(n: number): Float32Array {
    this.need(n * 4);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.view.getFloat32(this.pos, true);
      this.pos += 4;
    }
    return out;
  }

  /** Reads `n` signed 32-bit integers. */
  i32(n: number): Int32Array {
    this.need(n * 4);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.view.getInt32(this.pos, true);
      this.pos += 4;
    }
    return out;
  }

  /** Reads a string table written by {@link BinaryWriter.strings}. */
  strings(): string[] {
    const dec = new TextDecoder();
    const n = this.u32();
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const len = this.u32();
      this.need(len);
      out[i] = dec.decode(this.buf.subarray(this.pos, this.pos + len));
      this.pos += len;
    }
    return out;
  }

  /** Fails unless every byte was read. */
  expectEnd(): void {
    if (this.pos !== this.buf.length) {
      throw new DataError(`${this.buf.length - this.pos} unexpected trailing bytes`, {
        file: this.file,
        hint: 'the model directory is damaged or from another version; save the model again',
      });
    }
  }
}
