// One ONNX Runtime session on a worker thread (see ort-pool.ts): scores the feeds it is sent and sends back the
// output as a transferred Float32Array. Plain JavaScript so the thread starts without the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

// `options` comes from ortSessionOptions() in ort-pool.ts, so every Sapphire session is created alike.
const { bytes, output, options } = workerData;
const session = await ort.InferenceSession.create(bytes, options);
parentPort.postMessage({ ready: true });
parentPort.on('message', async ({ id, feeds }) => {
  try {
    const tensors = {};
    for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
    const result = await session.run(tensors);
    const data = Float32Array.from(result[output].data);
    parentPort.postMessage({ id, data }, [data.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error) });
  }
});
