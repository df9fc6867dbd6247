/**
 * Data-parallel training on worker threads: every thread holds a replica of the model whose
 * weights live in SharedArrayBuffers (one copy, updated in place by the main thread's optimizer);
 * each step splits the batch into contiguous shards, thread i always computes shard i into its own
 * gradient buffers, and the main thread sums the shards' gradients in thread order.
 *
 * Results are deterministic for a seed and a thread count (fixed shards, fixed summation order,
 * each replica's dropout stream fixed); they differ slightly between thread counts (float sums in
 * another order, other dropout streams).
 */
import { Worker } from 'node:worker_threads';
import { SapphireError } from '../../../core/errors.ts';
import { type FloatArray, type Param, touchRow, zeroGrad } from './tensor.ts';

/** A model replica that computes the gradient of its summed loss over some examples. */
export interface Trainable {
  params(): Param[];
  /** Adds the gradient of the summed loss over `examples` into the params' grads; returns the loss. */
  lossAndGrad(examples: unknown[]): number;
}

/** Where threads find the model: a module URL, the name of its factory export, and its options. */
export interface TrainableSpec {
  /** `file:` URL (or path) of an ES module exporting the factory. */
  module: string;
  /** Name of the exported `(options) => Trainable` factory. */
  factory: string;
  /** Structured-cloneable options; the same options must build the same shapes in every thread. */
  options: unknown;
}

interface DoneMessage {
  type: 'done';
  loss: number;
  touched: (number[] | null)[];
}
interface ErrorMessage {
  type: 'error';
  message: string;
}

/** Moves a parameter's value into a SharedArrayBuffer (same contents) and returns that buffer. */
function shareValue(p: Param): SharedArrayBuffer {
  if (p.value.buffer instanceof SharedArrayBuffer) return p.value.buffer;
  const sab = new SharedArrayBuffer(p.value.byteLength);
  const shared = p.value instanceof Float32Array ? new Float32Array(sab) : new Float64Array(sab);
  shared.set(p.value);
  p.value = shared;
  return sab;
}

async function loadFactory(spec: TrainableSpec): Promise<(options: unknown) => Trainable> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const factory = mod[spec.factory];
  if (typeof factory !== 'function') {
    throw new SapphireError('CONFIG_INVALID', `${spec.module} has no exported function ${spec.factory}`, {
      hint: 'export a factory (options) => Trainable from the model module',
    });
  }
  return factory as (options: unknown) => Trainable;
}

/** One worker thread and its gradient buffers. */
interface Replica {
  worker: Worker;
  grads: FloatArray[];
  pending?: { resolve: (m: DoneMessage) => void; reject: (e: Error) => void };
}

/**
 * A data-parallel group of model replicas, one per thread (the main thread is replica 0).
 *
 * @example
 * const dp = await DataParallel.start({ module: url, factory: 'createTagger', options }, { threads: 2 });
 * const loss = await dp.lossAndGrad(batch); // grads of the whole batch in dp.model.params()
 * adam.step(lr);
 * await dp.close();
 */
export class DataParallel {
  private constructor(
    readonly model: Trainable,
    private readonly replicas: Replica[],
  ) {}

  /** Builds the main replica and starts `threads − 1` workers (default: 2 threads). */
  static async start(spec: TrainableSpec, opts: { threads?: number } = {}): Promise<DataParallel> {
    const threads = Math.max(1, opts.threads ?? 2);
    const model = (await loadFactory(spec))(spec.options);
    const params = model.params();
    const values = params.map(shareValue);
    const replicas: Replica[] = [];
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(
      new URL('./data-parallel-worker.ts', import.meta.url).href,
    )}); });`;
    for (let t = 1; t < threads; t++) {
      const gradBuffers = params.map((p) => new SharedArrayBuffer(p.grad.byteLength));
      const grads = gradBuffers.map((sab, i) =>
        params[i]!.grad instanceof Float32Array ? new Float32Array(sab) : new Float64Array(sab),
      );
      const worker = new Worker(bootstrap, {
        eval: true,
        workerData: { spec, values, grads: gradBuffers, shapes: params.map((p) => p.shape) },
      });
      const replica: Replica = { worker, grads };
      worker.on('message', (m: DoneMessage | ErrorMessage | { type: 'ready' }) => {
        const pending = replica.pending;
        if (m.type === 'ready' || !pending) return;
        replica.pending = undefined;
        if (m.type === 'done') pending.resolve(m);
        else pending.reject(new SapphireError('INTERNAL', `training thread ${t} failed: ${m.message}`));
      });
      worker.on('error', (err) => {
        replica.pending?.reject(err);
        replica.pending = undefined;
      });
      replicas.push(replica);
    }
    return new DataParallel(model, replicas);
  }

  /** Number of threads (replicas). */
  get threads(): number {
    return this.replicas.length + 1;
  }

  /**
   * Zeroes the main replica's gradients, computes the summed loss over `batch` split across the
   * threads, and leaves the whole batch's gradient in `model.params()`.
   */
  async lossAndGrad(batch: unknown[]): Promise<number> {
    const n = this.threads;
    const size = Math.ceil(batch.length / n);
    const shards = Array.from({ length: n }, (_, i) => batch.slice(i * size, (i + 1) * size));
    const waits = this.replicas.map((r, i) => {
      const shard = shards[i + 1]!;
      return new Promise<DoneMessage>((resolve, reject) => {
        r.pending = { resolve, reject };
        r.worker.postMessage({ type: 'step', examples: shard });
      });
    });
    const params = this.model.params();
    zeroGrad(params);
    let loss = shards[0]!.length > 0 ? this.model.lossAndGrad(shards[0]!) : 0;
    const done = await Promise.all(waits);
    done.forEach((m, w) => {
      loss += m.loss;
      const grads = this.replicas[w]!.grads;
      params.forEach((p, i) => {
        const g = grads[i]!;
        const rows = m.touched[i];
        if (rows && p.rowSize !== undefined) {
          const width = p.rowSize;
          for (const r of rows) {
            touchRow(p, r);
            for (let j = r * width; j < r * width + width; j++) p.grad[j] = p.grad[j]! + g[j]!;
          }
        } else {
          for (let j = 0; j < g.length; j++) p.grad[j] = p.grad[j]! + g[j]!;
        }
      });
    });
    return loss;
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
  }
}

/** Worker side: builds the replica on the shared weights and answers `step` messages. */
export async function runDataParallelWorker(
  data: { spec: TrainableSpec; values: SharedArrayBuffer[]; grads: SharedArrayBuffer[]; shapes: number[][] },
  port: {
    on(event: 'message', fn: (m: { type: 'step'; examples: unknown[] }) => void): void;
    postMessage(m: unknown): void;
  },
): Promise<void> {
  const model = (await loadFactory(data.spec))(data.spec.options);
  const params = model.params();
  if (params.length !== data.values.length) {
    throw new SapphireError(
      'INTERNAL',
      `replica has ${params.length} parameters, main has ${data.values.length}`,
    );
  }
  params.forEach((p, i) => {
    const f32 = p.value instanceof Float32Array;
    p.value = f32 ? new Float32Array(data.values[i]!) : new Float64Array(data.values[i]!);
    p.grad = f32 ? new Float32Array(data.grads[i]!) : new Float64Array(data.grads[i]!);
  });
  port.on('message', (m) => {
    try {
      zeroGrad(params);
      const loss = m.examples.length > 0 ? model.lossAndGrad(m.examples) : 0;
      const touched = params.map((p) =>
        p.rowSize !== undefined && p.touchedRows ? [...p.touchedRows] : null,
      );
      port.postMessage({ type: 'done', loss, touched });
    } catch (err) {
      port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
  port.postMessage({ type: 'ready' });
}
