/**
 * A unidirectional LSTM over a padded time-major batch, and a bidirectional wrapper.
 *
 * Gate layout in the 4H-wide pre-activations: input, forget, cell candidate, output. The input
 * projection of all steps is one GEMM; each step adds `h(t-1) · Wh`. Backward is truncation-free
 * BPTT: one small GEMM per step for dh(t-1), then the weight gradients as three big GEMMs.
 */
import type { Rng } from '../../../core/rng.ts';
import { gemm, PackedRight } from './gemm.ts';
import { initConstant, initGlorot } from './init.ts';
import { addBiasRows, addColumnSums } from './linear.ts';
import { maskPadding, reverseSequences, type SeqBatch } from './seq.ts';
import { alloc, createParam, type FloatArray, type HasParams, type Param } from './tensor.ts';

/**
 * LSTM layer: x [T·B × inSize] → h [T·B × hidden] (zeros at padding).
 *
 * @example
 * const lstm = new Lstm('enc.fwd', 100, 100, createRng(1));
 * const h = lstm.forward(x, seq);
 * const dx = lstm.backward(dh);
 */
export class Lstm implements HasParams {
  readonly wx: Param;
  readonly wh: Param;
  readonly b: Param;
  private x: FloatArray = alloc(0);
  private seq: SeqBatch = { T: 0, B: 0, lengths: new Int32Array(0) };
  /** Activated gates [T·B × 4H]. */
  private gates: FloatArray = alloc(0);
  /** Cell states and their tanh [T·B × H]. */
  private cells: FloatArray = alloc(0);
  private tanhCells: FloatArray = alloc(0);
  /** Hidden states before masking [T·B × H] (the recurrence input). */
  private hidden: FloatArray = alloc(0);
  /** Wh packed for the forward steps, and Whᵀ for the backward steps. */
  private readonly whPacked = new PackedRight();
  private readonly whTPacked = new PackedRight();

  constructor(
    name: string,
    readonly inSize: number,
    readonly hiddenSize: number,
    rng: Rng,
  ) {
    const H = hiddenSize;
    this.wx = createParam(`${name}.wx`, [inSize, 4 * H]);
    this.wh = createParam(`${name}.wh`, [H, 4 * H]);
    this.b = createParam(`${name}.b`, [4 * H]);
    initGlorot(this.wx, rng, inSize, 4 * H);
    initGlorot(this.wh, rng, H, 4 * H);
    initConstant(this.b, 0);
    this.b.value.fill(1, H, 2 * H); // forget-gate bias 1: remember by default
  }

  params(): Param[] {
    return [this.wx, this.wh, this.b];
  }

  /** Runs the recurrence over every step; returns the hidden states with padding rows zeroed. */
  forward(x: FloatArray, seq: SeqBatch): FloatArray {
    const { T, B } = seq;
    const H = this.hiddenSize;
    const G4 = 4 * H;
    const n = T * B;
    this.x = x;
    this.seq = seq;
    const gates = alloc(n * G4);
    const cells = alloc(n * H);
    const tanhCells = alloc(n * H);
    const hidden = alloc(n * H);
    gemm(false, false, n, G4, this.inSize, 1, x, 0, this.inSize, this.wx.value, 0, G4, 0, gates, 0, G4);
    addBiasRows(gates, n, this.b.value);
    if (T > 1) this.whPacked.pack(false, this.wh.value, 0, G4, H, G4);
    for (let t = 0; t < T; t++) {
      const row0 = t * B;
      if (t > 0) this.whPacked.multiply(B, 1, hidden, (row0 - B) * H, H, 1, gates, row0 * G4, G4);
      for (let b = 0; b < B; b++) {
        const r = row0 + b;
        const go = r * G4;
        const ho = r * H;
        const po = (r - B) * H;
        for (let j = 0; j < H; j++) {
          const ig = 1 / (1 + Math.exp(-gates[go + j]!));
          const fg = 1 / (1 + Math.exp(-gates[go + H + j]!));
          const cg = Math.tanh(gates[go + 2 * H + j]!);
          const og = 1 / (1 + Math.exp(-gates[go + 3 * H + j]!));
          gates[go + j] = ig;
          gates[go + H + j] = fg;
          gates[go + 2 * H + j] = cg;
          gates[go + 3 * H + j] = og;
          const c = (t > 0 ? fg * cells[po + j]! : 0) + ig * cg;
          cells[ho + j] = c;
          const tc = Math.tanh(c);
          tanhCells[ho + j] = tc;
          hidden[ho + j] = og * tc;
        }
      }
    }
    this.gates = gates;
    this.cells = cells;
    this.tanhCells = tanhCells;
    this.hidden = hidden;
    const out = alloc(n * H);
    out.set(hidden);
    maskPadding(out, seq, H);
    return out;
  }

  /** Back-propagates dh [T·B × H] (padding rows ignored); accumulates weight gradients; returns dx. */
  backward(dy: FloatArray, needInputGrad = true): FloatArray | undefined {
    const { T, B } = this.seq;
    const H = this.hiddenSize;
    const G4 = 4 * H;
    const n = T * B;
    const { gates, cells, tanhCells, hidden } = this;
    const lengths = this.seq.lengths;
    const dGates = alloc(n * G4);
    const dhNext = alloc(B * H);
    const dcNext = alloc(B * H);
    if (T > 1) this.whTPacked.pack(true, this.wh.value, 0, G4, G4, H);
    for (let t = T - 1; t >= 0; t--) {
      const row0 = t * B;
      for (let b = 0; b < B; b++) {
        const r = row0 + b;
        const go = r * G4;
        const ho = r * H;
        const po = (r - B) * H;
        const so = b * H;
        const real = t < lengths[b]!;
        for (let j = 0; j < H; j++) {
          const dh = (real ? dy[ho + j]! : 0) + dhNext[so + j]!;
          const ig = gates[go + j]!;
          const fg = gates[go + H + j]!;
          const cg = gates[go + 2 * H + j]!;
          const og = gates[go + 3 * H + j]!;
          const tc = tanhCells[ho + j]!;
          const dc = dh * og * (1 - tc * tc) + dcNext[so + j]!;
          const cPrev = t > 0 ? cells[po + j]! : 0;
          dGates[go + j] = dc * cg * ig * (1 - ig);
          dGates[go + H + j] = dc * cPrev * fg * (1 - fg);
          dGates[go + 2 * H + j] = dc * ig * (1 - cg * cg);
          dGates[go + 3 * H + j] = dh * tc * og * (1 - og);
          dcNext[so + j] = dc * fg;
        }
      }
      if (t > 0) this.whTPacked.multiply(B, 1, dGates, row0 * G4, G4, 0, dhNext, 0, H);
    }
    if (T > 1) {
      gemm(true, false, H, G4, (T - 1) * B, 1, hidden, 0, H, dGates, B * G4, G4, 1, this.wh.grad, 0, G4);
    }
    gemm(true, false, this.inSize, G4, n, 1, this.x, 0, this.inSize, dGates, 0, G4, 1, this.wx.grad, 0, G4);
    addColumnSums(dGates, n, this.b.grad);
    if (!needInputGrad) return undefined;
    const dx = alloc(n * this.inSize);
    gemm(false, true, n, this.inSize, G4, 1, dGates, 0, G4, this.wx.value, 0, G4, 0, dx, 0, this.inSize);
    return dx;
  }
}

/**
 * Bidirectional LSTM: a forward LSTM and a backward one (run over each sequence reversed within its
 * length); output [T·B × 2H] is the two hidden states side by side.
 *
 * @example
 * const bi = new BiLstm('enc', 100, 100, createRng(1));
 * const h = bi.forward(x, seq); // [T·B × 200]
 */
export class BiLstm implements HasParams {
  readonly fwd: Lstm;
  readonly bwd: Lstm;
  private seq: SeqBatch = { T: 0, B: 0, lengths: new Int32Array(0) };

  constructor(
    name: string,
    readonly inSize: number,
    readonly hiddenSize: number,
    rng: Rng,
  ) {
    this.fwd = new Lstm(`${name}.fwd`, inSize, hiddenSize, rng);
    this.bwd = new Lstm(`${name}.bwd`, inSize, hiddenSize, rng);
  }

  params(): Param[] {
    return [...this.fwd.params(), ...this.bwd.params()];
  }

  /** Output width (2 × hidden). */
  get outSize(): number {
    return 2 * this.hiddenSize;
  }

  forward(x: FloatArray, seq: SeqBatch): FloatArray {
    this.seq = seq;
    const n = seq.T * seq.B;
    const H = this.hiddenSize;
    const hf = this.fwd.forward(x, seq);
    const xr = alloc(x.length);
    reverseSequences(x, xr, seq, this.inSize);
    const hbr = this.bwd.forward(xr, seq);
    const hb = alloc(n * H);
    reverseSequences(hbr, hb, seq, H);
    const out = alloc(n * 2 * H);
    for (let r = 0; r < n; r++) {
      out.set(hf.subarray(r * H, r * H + H), r * 2 * H);
      out.set(hb.subarray(r * H, r * H + H), r * 2 * H + H);
    }
    return out;
  }

  backward(dy: FloatArray, needInputGrad = true): FloatArray | undefined {
    const seq = this.seq;
    const n = seq.T * seq.B;
    const H = this.hiddenSize;
    const dF = alloc(n * H);
    const dB = alloc(n * H);
    for (let r = 0; r < n; r++) {
      dF.set(dy.subarray(r * 2 * H, r * 2 * H + H), r * H);
      dB.set(dy.subarray(r * 2 * H + H, r * 2 * H + 2 * H), r * H);
    }
    const dBr = alloc(n * H);
    reverseSequences(dB, dBr, seq, H);
    const dxf = this.fwd.backward(dF, needInputGrad);
    const dxbr = this.bwd.backward(dBr, needInputGrad);
    if (!needInputGrad) return undefined;
    const dx = alloc(n * this.inSize);
    reverseSequences(dxbr!, dx, seq, this.inSize);
    for (let i = 0; i < dx.length; i++) dx[i] = dx[i]! + dxf![i]!;
    return dx;
  }
}
