/**
 * A small builder for ONNX models (graph, initializers, inputs/outputs, metadata) over `onnx-proto`,
 * shared by the exporters of Sapphire's own models and by tests that build tiny models to import.
 *
 * @example
 * const g = new OnnxGraphBuilder('scores');
 * g.input('x', 'float32', ['batch', 3]);
 * g.initializer('w', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
 * g.node('MatMul', ['x', 'w'], ['y']);
 * g.output('y', 'float32', ['batch', 2]);
 * const bytes = g.toBytes();   // load with onnxruntime-node's InferenceSession.create(bytes)
 */
import onnxProto, { type onnx } from 'onnx-proto';
import { SapphireError } from '../../core/errors.ts';

/** onnx-proto is CommonJS: its runtime namespace comes through the default export under ESM. */
const proto = onnxProto.onnx;

/** Element types the builder writes (ONNX TensorProto data types). */
export type OnnxElementType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';

/** A dimension: a fixed size or a symbolic name such as `batch`. */
export type OnnxDim = number | string;

/** A typed node attribute; build one with the `attr` helpers. */
export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'strings'; value: readonly string[] }
  | { kind: 'tensor'; value: OnnxTensorData; dims: readonly number[] };

/** Data of an initializer or a tensor attribute. */
export type OnnxTensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | readonly number[];

/** Helpers that type node attributes (ONNX tells ints from floats). */
export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ kind: 'floats', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
  strings: (value: readonly string[]): OnnxAttribute => ({ kind: 'strings', value }),
  tensor: (value: OnnxTensorData, dims: readonly number[]): OnnxAttribute => ({
    kind: 'tensor',
    value,
    dims,
  }),
};

const ELEMENT_TYPES: Record<OnnxElementType, onnx.TensorProto.DataType> = {
  float32: proto.TensorProto.DataType.FLOAT,
  float64: proto.TensorProto.DataType.DOUBLE,
  int64: proto.TensorProto.DataType.INT64,
  int32: proto.TensorProto.DataType.INT32,
  bool: proto.TensorProto.DataType.BOOL,
  string: proto.TensorProto.DataType.STRING,
};

/** The opset the exporters target (onnxruntime-node 1.31 runs up to opset 23). */
export const DEFAULT_OPSET = 17;

/** Options of a builder. */
export interface OnnxGraphBuilderOptions {
  /** Default-domain opset version. */
  opset?: number;
  /** Written as the model's producer name. */
  producer?: string;
  /** Written as the model's producer version. */
  producerVersion?: string;
}

/** Collects the parts of one ONNX graph and serialises it as a model. */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly metadata = new Map<string, string>();
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(
    private readonly graphName: string,
    private readonly options: OnnxGraphBuilderOptions = {},
  ) {}

  /** Declares a graph input. */
  input(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output (the name of a value some node produces). */
  output(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Adds a constant tensor (weights); its name becomes usable as a node input. */
  initializer(name: string, data: OnnxTensorData, dims: readonly number[], type?: OnnxElementType): string {
    this.claim(name);
    this.initializers.push(tensorProto(name, data, dims, type));
    return name;
  }

  /** Adds a node; returns its first output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Record<string, OnnxAttribute> = {},
    name?: string,
  ): string {
    for (const output of outputs) this.claim(output);
    this.nodes.push({
      opType,
      input: [...inputs],
      output: [...outputs],
      name: name ?? `${opType}_${this.nodes.length}`,
      attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value)),
    });
    return outputs[0] ?? '';
  }

  /** A value name not used yet, built from `prefix`. */
  fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.names.has(name)) name = `${prefix}_${this.counter++}`;
    return name;
  }

  /** Adds a key/value pair to the model's metadata (labels, vocabulary hashes, versions…). */
  meta(key: string, value: string): void {
    this.metadata.set(key, value);
  }

  /** The model as an `onnx.ModelProto`. */
  toModel(): onnx.ModelProto {
    return proto.ModelProto.create({
      irVersion: proto.Version.IR_VERSION,
      producerName: this.options.producer ?? 'sapphire',
      producerVersion: this.options.producerVersion ?? '',
      opsetImport: [{ domain: '', version: this.options.opset ?? DEFAULT_OPSET }],
      metadataProps: [...this.metadata].map(([key, value]) => ({ key, value })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  /** The serialised model (the bytes of `model.onnx`). */
  toBytes(): Uint8Array {
    return proto.ModelProto.encode(this.toModel()).finish();
  }

  private claim(name: string): void {
    if (this.names.has(name)) {
      throw new SapphireError(
        'INTERNAL',
        `ONNX graph ${this.graphName}: the value name ${name} is defined twice`,
      );
    }
    this.names.add(name);
  }
}

function valueInfo(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function inferType(data: OnnxTensorData): OnnxElementType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'float32';
}

function tensorProto(
  name: string,
  data: OnnxTensorData,
  dims: readonly number[],
  type: OnnxElementType = inferType(data),
): onnx.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new SapphireError(
      'INTERNAL',
      `ONNX tensor ${name}: ${data.length} values do not fill dims [${dims.join(', ')}] (${count} values)`,
    );
  }
  return { name, dims: [...dims], dataType: ELEMENT_TYPES[type], rawData: rawBytes(data, type) };
}

function rawBytes(data: OnnxTensorData, type: OnnxElementType): Uint8Array {
  switch (type) {
    case 'float32': {
      const out = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>, Number);
      return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
    }
    case 'float64': {
      const out = data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>, Number);
      return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
    }
    case 'int32': {
      const out = data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>, Number);
      return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
    }
    case 'int64': {
      const out =
        data instanceof BigInt64Array
          ? data
          : BigInt64Array.from(data as ArrayLike<number>, (v) => BigInt(v));
      return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
    }
    case 'bool':
      return Uint8Array.from(data as ArrayLike<number>, (v) => (Number(v) ? 1 : 0));
    case 'string':
      throw new SapphireError('INTERNAL', 'string tensors are not supported as initializers');
  }
}

function attributeProto(name: string, value: OnnxAttribute): onnx.IAttributeProto {
  const T = proto.AttributeProto.AttributeType;
  const utf8 = (s: string) => new TextEncoder().encode(s);
  switch (value.kind) {
    case 'int':
      return { name, type: T.INT, i: value.value };
    case 'float':
      return { name, type: T.FLOAT, f: value.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...value.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...value.value] };
    case 'string':
      return { name, type: T.STRING, s: utf8(value.value) };
    case 'strings':
      return { name, type: T.STRINGS, strings: value.value.map(utf8) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto(name, value.value, value.dims) };
  }
}
