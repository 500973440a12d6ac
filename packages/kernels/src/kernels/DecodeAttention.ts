import {
  add,
  cast,
  concat,
  engine,
  expandDims,
  type KernelConfig,
  type KernelFunc,
  less,
  matMul,
  mul,
  type NamedAttrMap,
  range,
  reshape,
  slice,
  softmax,
  split,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  type TensorInfo,
  tidy,
  util,
} from '@tensorflow/tfjs-core';
import { activeNativeBlas, type NativeBlas } from '../native.ts';
import { hasKernel } from '../ops/op_util.ts';
import { asWasm, heapF32, tensorData, type WasmBackend } from '../wasm/heap.ts';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from './array_kernel.ts';

export const DecodeAttention = 'LinewiseDecodeAttention';

/** Additive bias of masked keys in the stock-op composite (finite, as `@linewise/model`'s `MASKED`). */
const MASKED = -1e9;

export interface DecodeAttentionAttrs {
  /** Query heads H. */
  numHeads: number;
  /** Key/value heads Hkv (H is a multiple; query head h reads kv head floor(h / (H / Hkv))). */
  numKvHeads: number;
  /** Cache row that the new key/value is written to; keys `starts[b] .. position` are attended to. */
  position: number;
}

export interface DecodeAttentionResult {
  /** Attention output [B, H*hd]. */
  output: Tensor2D;
  /**
   * The caches holding the new row: with the kernel these ARE the `keys`/`values` passed in (written in
   * place, do not dispose them twice); from the stock-op fallback they are new tensors.
   */
  keys: Tensor4D;
  values: Tensor4D;
}

/** Whether the active backend runs `decodeAttention` as one in-place kernel (else: stock ops, copies). */
export function hasDecodeAttention(): boolean {
  return hasKernel(DecodeAttention);
}

/**
 * One decoding step of (grouped-query) attention against a preallocated KV cache, in one kernel.
 * `qkv` [B, (H + 2 Hkv) * hd] holds per row the query (already scaled by 1/sqrt(hd)), the new key and the
 * new value; `keys`/`values` [B, Hkv, Smax, hd] are the caches; `starts` int32 [B] the first key each row
 * may attend to (left padding before it). The new key/value is written into row `position` of the caches
 * and the query attends to keys `starts[b] .. position`: softmax(q K^T) V.
 *
 * IN PLACE: the kernel writes into the storage of `keys` and `values`, which tfjs otherwise treats as
 * immutable. Pass only caches that the caller owns exclusively (no other tensor sharing their storage,
 * e.g. not a reshape/clone of a tensor still in use elsewhere), and never anything under a gradient tape.
 */
export function decodeAttention(
  qkv: Tensor2D,
  keys: Tensor4D,
  values: Tensor4D,
  starts: Tensor1D,
  attrs: DecodeAttentionAttrs,
): DecodeAttentionResult {
  const { numHeads, numKvHeads, position } = attrs;
  const [b, hkv, smax, hd] = keys.shape;
  util.assert(
    qkv.rank === 2 &&
      qkv.dtype === 'float32' &&
      qkv.shape[0] === b &&
      qkv.shape[1] === (numHeads + 2 * hkv) * hd,
    () => `decodeAttention: qkv must be float32 [${b}, ${(numHeads + 2 * hkv) * hd}], got [${qkv.shape}]`,
  );
  util.assert(
    hkv === numKvHeads && numHeads % numKvHeads === 0,
    () =>
      `decodeAttention: ${numHeads} heads do not group over ${numKvHeads} kv heads of cache [${keys.shape}]`,
  );
  util.assert(
    values.rank === 4 && values.shape.every((n, i) => n === keys.shape[i]) && keys.dtype === 'float32',
    () => `decodeAttention: values [${values.shape}] must match keys [${keys.shape}], float32`,
  );
  util.assert(
    starts.rank === 1 && starts.dtype === 'int32' && starts.shape[0] === b,
    () => `decodeAttention: starts must be int32 [${b}], got [${starts.shape}] ${starts.dtype}`,
  );
  util.assert(
    Number.isInteger(position) && position >= 0 && position < smax,
    () => `decodeAttention: position ${position} is outside the cache's ${smax} rows`,
  );
  if (hasKernel(DecodeAttention)) {
    const output = engine().runKernel(
      DecodeAttention,
      { qkv, keys, values, starts },
      { numHeads, numKvHeads, position },
    ) as Tensor2D;
    return { output, keys, values };
  }
  return decodeAttentionComposite(qkv, keys, values, starts, attrs);
}

/** `decodeAttention` from stock ops (copies the caches instead of writing them): fallback and test reference. */
export function decodeAttentionComposite(
  qkv: Tensor2D,
  keys: Tensor4D,
  values: Tensor4D,
  starts: Tensor1D,
  attrs: DecodeAttentionAttrs,
): DecodeAttentionResult {
  const { numHeads, numKvHeads, position } = attrs;
  return tidy(() => {
    const [b, , smax, hd] = keys.shape;
    const groups = numHeads / numKvHeads;
    const [q, k, v] = split(qkv, [numHeads * hd, numKvHeads * hd, numKvHeads * hd], 1) as [
      Tensor2D,
      Tensor2D,
      Tensor2D,
    ];
    const write = (cache: Tensor4D, row: Tensor2D): Tensor4D => {
      const parts: Tensor[] = [];
      if (position > 0) parts.push(slice(cache, [0, 0, 0, 0], [b, numKvHeads, position, hd]));
      parts.push(reshape(row, [b, numKvHeads, 1, hd]));
      if (position + 1 < smax) parts.push(slice(cache, [0, 0, position + 1, 0], [b, numKvHeads, -1, hd]));
      return (parts.length === 1 ? parts[0] : concat(parts, 2)) as Tensor4D;
    };
    const newKeys = write(keys, k);
    const newValues = write(values, v);
    const s = position + 1;
    const used = (cache: Tensor4D) => slice(cache, [0, 0, 0, 0], [b, numKvHeads, s, hd]);
    const allowed = less(expandDims(range(0, s, 1, 'int32'), 0), expandDims(starts, 1));
    const bias = reshape(mul(cast(allowed, 'float32'), MASKED), [b, 1, 1, s]);
    const scores = matMul(reshape(q, [b, numKvHeads, groups, hd]), used(newKeys), false, true);
    const probs = softmax(add(scores, bias));
    const output = reshape(matMul(probs, used(newValues)), [b, numHeads * hd]) as Tensor2D;
    return { output, keys: newKeys, values: newValues } as never;
  }) as unknown as DecodeAttentionResult;
}

let scoreScratch = new Float64Array(256);
let accScratch = new Float64Array(64);

function compute(inputs: TypedArray[], outputs: TypedArray[], attrs: Record<string, unknown>): void {
  const [qkv, keys, values, starts] = inputs as [Float32Array, Float32Array, Float32Array, Int32Array];
  const [out] = outputs as [Float32Array];
  const heads = attrs.numHeads as number;
  const kvHeads = attrs.numKvHeads as number;
  const position = attrs.position as number;
  const batch = starts.length;
  const width = qkv.length / batch;
  const hd = width / (heads + 2 * kvHeads);
  const smax = keys.length / (batch * kvHeads * hd);
  const groups = heads / kvHeads;
  if (scoreScratch.length < smax) scoreScratch = new Float64Array(smax);
  if (accScratch.length < hd) accScratch = new Float64Array(hd);
  const scores = scoreScratch;
  const acc = accScratch;
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    // Write the new key/value rows.
    for (let g = 0; g < kvHeads; g++) {
      const dst = ((b * kvHeads + g) * smax + position) * hd;
      const kSrc = row + (heads + g) * hd;
      const vSrc = row + (heads + kvHeads + g) * hd;
      for (let j = 0; j < hd; j++) {
        keys[dst + j] = qkv[kSrc + j] as number;
        values[dst + j] = qkv[vSrc + j] as number;
      }
    }
    const start = Math.max(0, Math.min(starts[b] as number, position));
    for (let h = 0; h < heads; h++) {
      const g = (h / groups) | 0;
      const base = (b * kvHeads + g) * smax * hd;
      const q = row + h * hd;
      // Scores, eight keys at a time (each query element loaded once per eight keys).
      let max = -Infinity;
      let s = start;
      for (; s + 7 <= position; s += 8) {
        const k0 = base + s * hd;
        const k1 = k0 + hd;
        const k2 = k1 + hd;
        const k3 = k2 + hd;
        const k4 = k3 + hd;
        const k5 = k4 + hd;
        const k6 = k5 + hd;
        const k7 = k6 + hd;
        let d0 = 0;
        let d1 = 0;
        let d2 = 0;
        let d3 = 0;
        let d4 = 0;
        let d5 = 0;
        let d6 = 0;
        let d7 = 0;
        for (let j = 0; j < hd; j++) {
          const qj = qkv[q + j] as number;
          d0 += qj * (keys[k0 + j] as number);
          d1 += qj * (keys[k1 + j] as number);
          d2 += qj * (keys[k2 + j] as number);
          d3 += qj * (keys[k3 + j] as number);
          d4 += qj * (keys[k4 + j] as number);
          d5 += qj * (keys[k5 + j] as number);
          d6 += qj * (keys[k6 + j] as number);
          d7 += qj * (keys[k7 + j] as number);
        }
        scores[s] = d0;
        scores[s + 1] = d1;
        scores[s + 2] = d2;
        scores[s + 3] = d3;
        scores[s + 4] = d4;
        scores[s + 5] = d5;
        scores[s + 6] = d6;
        scores[s + 7] = d7;
        max = Math.max(max, d0, d1, d2, d3, d4, d5, d6, d7);
      }
      for (; s <= position; s++) {
        const k = base + s * hd;
        let dot = 0;
        for (let j = 0; j < hd; j++) dot += (qkv[q + j] as number) * (keys[k + j] as number);
        scores[s] = dot;
        if (dot > max) max = dot;
      }
      let total = 0;
      for (s = start; s <= position; s++) {
        const p = Math.exp((scores[s] as number) - max);
        scores[s] = p;
        total += p;
      }
      // Weighted values, eight keys at a time (one accumulator pass per eight keys).
      for (let j = 0; j < hd; j++) acc[j] = 0;
      for (s = start; s + 7 <= position; s += 8) {
        const p0 = scores[s + 0] as number;
        const p1 = scores[s + 1] as number;
        const p2 = scores[s + 2] as number;
        const p3 = scores[s + 3] as number;
        const p4 = scores[s + 4] as number;
        const p5 = scores[s + 5] as number;
        const p6 = scores[s + 6] as number;
        const p7 = scores[s + 7] as number;
        const v0 = base + s * hd;
        const v1 = v0 + hd;
        const v2 = v1 + hd;
        const v3 = v2 + hd;
        const v4 = v3 + hd;
        const v5 = v4 + hd;
        const v6 = v5 + hd;
        const v7 = v6 + hd;
        for (let j = 0; j < hd; j++) {
          acc[j] =
            (acc[j] as number) +
            p0 * (values[v0 + j] as number) +
            p1 * (values[v1 + j] as number) +
            p2 * (values[v2 + j] as number) +
            p3 * (values[v3 + j] as number) +
            p4 * (values[v4 + j] as number) +
            p5 * (values[v5 + j] as number) +
            p6 * (values[v6 + j] as number) +
            p7 * (values[v7 + j] as number);
        }
      }
      for (; s <= position; s++) {
        const p = scores[s] as number;
        const v = base + s * hd;
        for (let j = 0; j < hd; j++) acc[j] = (acc[j] as number) + p * (values[v + j] as number);
      }
      const inv = 1 / total;
      const o = (b * heads + h) * hd;
      for (let j = 0; j < hd; j++) out[o + j] = (acc[j] as number) * inv;
    }
  }
}

const decodeAttentionKernel: ArrayKernel = {
  kernelName: DecodeAttention,
  inputNames: ['qkv', 'keys', 'values', 'starts'],
  outputs: ([qkv], attrs) => {
    const [b, w] = (qkv as TensorInfo).shape as [number, number];
    const heads = attrs.numHeads as number;
    const kvHeads = attrs.numKvHeads as number;
    return [{ shape: [b, (w / (heads + 2 * kvHeads)) * heads], dtype: 'float32' }];
  },
  compute,
};

const jsKernels = arrayKernelConfigs(decodeAttentionKernel);
const jsWasm = jsKernels.wasm[0] as KernelConfig;

/**
 * With the native BLAS addon active: the two attention products as two batched sgemm calls on the wasm
 * heap (one GEMM of G query rows per (row, kv head)), the cache write and softmax in JS.
 */
function nativeDecode(
  backend: WasmBackend,
  blas: NativeBlas,
  inputs: TensorInfo[],
  attrs: NamedAttrMap,
): TensorInfo {
  const [qkvT, keysT, valuesT, startsT] = inputs as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  const heads = attrs.numHeads as number;
  const kvHeads = attrs.numKvHeads as number;
  const position = attrs.position as number;
  const [batch, width] = qkvT.shape as [number, number];
  const [, , smax, hd] = keysT.shape as [number, number, number, number];
  const groups = heads / kvHeads;
  const s = position + 1;
  const out = backend.makeOutput([batch, heads * hd], 'float32');
  const qScratch = backend.makeOutput([batch, heads, hd], 'float32');
  const scoresT = backend.makeOutput([batch, heads, s], 'float32');
  try {
    // Views only after every allocation (growing the heap detaches earlier ones).
    const qkv = heapF32(backend, qkvT);
    const keys = heapF32(backend, keysT);
    const values = heapF32(backend, valuesT);
    const starts = new Int32Array(
      backend.wasm.HEAPU8.buffer,
      tensorData(backend, startsT).memoryOffset,
      batch,
    );
    const q = heapF32(backend, qScratch);
    const scores = heapF32(backend, scoresT);
    for (let b = 0; b < batch; b++) {
      const row = b * width;
      q.set(qkv.subarray(row, row + heads * hd), b * heads * hd);
      for (let g = 0; g < kvHeads; g++) {
        const dst = ((b * kvHeads + g) * smax + position) * hd;
        const kSrc = row + (heads + g) * hd;
        const vSrc = row + (heads + kvHeads + g) * hd;
        keys.set(qkv.subarray(kSrc, kSrc + hd), dst);
        values.set(qkv.subarray(vSrc, vSrc + hd), dst);
      }
    }
    const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
    const at = (t: TensorInfo) => tensorData(backend, t).memoryOffset;
    const keysAt = at(keysT);
    const valuesAt = at(valuesT);
    const scoresAt = at(scoresT);
    // scores[b, g*G .. g*G+G-1, :s] = q[b, g*G .., :] @ K[b, g, :s, :]^T
    blas.sgemm(
      heap,
      false,
      true,
      groups,
      s,
      hd,
      at(qScratch),
      hd,
      groups * hd,
      keysAt,
      hd,
      smax * hd,
      0,
      scoresAt,
      s,
      groups * s,
      batch * kvHeads,
    );
    for (let b = 0; b < batch; b++) {
      const start = Math.max(0, Math.min(starts[b] as number, position));
      for (let h = 0; h < heads; h++) {
        const r = (b * heads + h) * s;
        let max = -Infinity;
        for (let j = r + start; j < r + s; j++) max = Math.max(max, scores[j] as number);
        let total = 0;
        for (let j = r + start; j < r + s; j++) {
          const p = Math.exp((scores[j] as number) - max);
          scores[j] = p;
          total += p;
        }
        const inv = 1 / total;
        for (let j = r; j < r + start; j++) scores[j] = 0;
        for (let j = r + start; j < r + s; j++) scores[j] = (scores[j] as number) * inv;
      }
    }
    // out[b, g*G .., :] = P[b, g*G .., :s] @ V[b, g, :s, :]
    blas.sgemm(
      heap,
      false,
      false,
      groups,
      hd,
      s,
      scoresAt,
      s,
      groups * s,
      valuesAt,
      hd,
      smax * hd,
      0,
      at(out),
      hd,
      groups * hd,
      batch * kvHeads,
    );
  } finally {
    backend.disposeData(qScratch.dataId);
    backend.disposeData(scoresT.dataId);
  }
  return out;
}

/** wasm (heap views; two batched sgemm calls when the native BLAS addon is active) and cpu configs. */
export const decodeAttentionKernels = {
  wasm: [
    {
      kernelName: DecodeAttention,
      backendName: 'wasm',
      kernelFunc: ((args) => {
        const blas = activeNativeBlas();
        if (blas === undefined) return jsWasm.kernelFunc(args);
        const { qkv, keys, values, starts } = args.inputs as Record<string, TensorInfo>;
        return nativeDecode(
          asWasm(args.backend),
          blas,
          [qkv, keys, values, starts] as TensorInfo[],
          args.attrs ?? {},
        );
      }) as KernelFunc,
    },
  ] as KernelConfig[],
  cpu: jsKernels.cpu,
};
