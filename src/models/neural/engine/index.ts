/**
 * The neural training engine: float32 tensors and parameters, a WebAssembly SIMD GEMM, layers with
 * explicit forward/backward passes, a linear-chain CRF, optimizers, schedules, gradient checking and
 * data-parallel training on worker threads. See docs/adr/0008-neural-engine.md.
 */
export * from './activation.ts';
export * from './char-features.ts';
export * from './conv1d.ts';
export * from './crf.ts';
export * from './data-parallel.ts';
export * from './dropout.ts';
export * from './embedding.ts';
export * from './gemm.ts';
export { wasmGemmAvailable } from './gemm-wasm.ts';
export * from './grad-check.ts';
export * from './init.ts';
export * from './linear.ts';
export * from './lstm.ts';
export * from './optim.ts';
export * from './pooling.ts';
export * from './seq.ts';
export * from './serialize.ts';
export * from './softmax.ts';
export * from './tensor.ts';
