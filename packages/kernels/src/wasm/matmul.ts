import { broadcast_util, type DataId, type TensorInfo, Transpose, util } from '@tensorflow/tfjs-core';
import { activeNativeBlas, type NativeBlas } from '../native.ts';
import {
  aliasHeap,
  heapF32,
  releaseAlias,
  runKernel,
  tensorData,
  tensorId,
  type WasmBackend,
} from './heap.ts';
import { type MatMulPool, matMulPoolFor, splitAcross } from './matmul-pool.ts';

/** Activations that XNNPACK applies as an output clamp inside the matmul. */
export type MatMulClamp = 'linear' | 'relu' | 'relu6';

/** tfjs-backend-wasm's `FusableActivation` codes (cc/fusable_activations.h). */
const CLAMP_CODES: Record<MatMulClamp, number> = { linear: 0, relu: 1, relu6: 2 };
const CLAMP_BOUNDS: Record<MatMulClamp, [number, number]> = {
  linear: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
  relu: [0, Number.POSITIVE_INFINITY],
  relu6: [0, 6],
};

type WasmFusedMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: number,
  transposeB: number,
  activation: number,
  biasId: number,
  preluWeightsId: number,
  leakyreluAlpha: number,
  outId: number,
) => void;

let wasmFusedMatMul: WasmFusedMatMul | undefined;

/** Binds the stock `_FusedMatMul` entry point; kernels using `batchMatMul` call this from their setupFunc. */
export function setupMatMul(backend: WasmBackend): void {
  wasmFusedMatMul = backend.wasm.cwrap('_FusedMatMul', null, [
    'number', // a id
    'array', // a shape
    'number', // a rank
    'number', // b id
    'array', // b shape
    'number', // b rank
    'number', // transpose a
    'number', // transpose b
    'number', // activation
    'number', // bias id
    'number', // prelu weights id
    'number', // leakyrelu alpha
    'number', // out id
  ]) as WasmFusedMatMul;
}

export interface MatMulOptions {
  transposeA: boolean;
  transposeB: boolean;
  /** Added to every output row: shape [N]. */
  bias?: TensorInfo;
  clamp?: MatMulClamp;
}

/** Shapes of one matmul; batch indices of `a` and `b` for every output batch, after broadcasting. */
interface Plan {
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  batch: number;
  batchA: number;
  batchB: number;
  pairs: [number, number][];
}

/**
 * `a x b` with tfjs's BatchMatMul semantics for any transposes and ranks >= 2, batch dimensions broadcast
 * as numpy does. Returns a new [...batch, M, N] float32 tensor. Runs on the native BLAS when one is loaded,
 * else on the stock XNNPACK path (which tfjs only uses for untransposed, unbatched operands).
 */
export function batchMatMul(
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  options: MatMulOptions,
): TensorInfo {
  const { transposeA, transposeB, bias, clamp = 'linear' } = options;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new Error(`matMul on wasm supports float32 only, got ${a.dtype} and ${b.dtype}`);
  }
  const [aRows, aCols] = lastTwo(a.shape);
  const [bRows, bCols] = lastTwo(b.shape);
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kB, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  util.assert(
    k === kB,
    () =>
      `Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
      `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const plan: Plan = {
    m,
    n,
    k,
    transposeA,
    transposeB,
    batch: util.sizeFromShape(outer),
    batchA: util.sizeFromShape(outerA),
    batchB: util.sizeFromShape(outerB),
    pairs: broadcastPairs(outer, outerA, outerB),
  };
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (plan.batch * m * n === 0) return out;

  const blas = activeNativeBlas();
  if (blas === undefined && k > 0) {
    if (isWideWeightGradient(plan, bias, clamp)) {
      xnnpackSwapped(backend, plan, a, b, out);
    } else {
      xnnpack(backend, plan, a, b, out, bias, clamp);
    }
    return out;
  }
  // The BLAS accumulates into the output (beta = 1) when it starts as the bias rows.
  if (bias !== undefined || k === 0) fillRows(backend, out, bias, n);
  if (blas !== undefined && k > 0) sgemm(backend, blas, plan, a, b, out, bias === undefined ? 0 : 1);
  if (clamp !== 'linear') {
    const [low, high] = CLAMP_BOUNDS[clamp];
    const values = heapF32(backend, out);
    values.set(values.map((value) => Math.min(Math.max(value, low), high)));
  }
  return out;
}

function lastTwo(shape: number[]): [number, number] {
  const [rows, cols] = shape.slice(-2);
  if (rows === undefined || cols === undefined)
    throw new Error(`matMul needs tensors of rank >= 2, got [${shape}]`);
  return [rows, cols];
}

/** For each output batch index (row-major over `outer`), the batch indices of `a` and `b`. */
function broadcastPairs(outer: number[], outerA: number[], outerB: number[]): [number, number][] {
  const pairs: [number, number][] = [];
  const count = util.sizeFromShape(outer);
  for (let index = 0; index < count; index++) {
    pairs.push([sourceIndex(index, outer, outerA), sourceIndex(index, outer, outerB)]);
  }
  return pairs;
}

/** The flat index into `dims` that output batch `index` reads, broadcasting size-1 and missing dims. */
function sourceIndex(index: number, outer: number[], dims: number[]): number {
  let rest = index;
  let source = 0;
  let stride = 1;
  for (let axis = outer.length - 1; axis >= 0; axis--) {
    const size = outer[axis] ?? 1;
    const coordinate = rest % size;
    rest = Math.floor(rest / size);
    const dim = dims[axis - (outer.length - dims.length)];
    if (dim === undefined) break;
    if (dim !== 1) source += coordinate * stride;
    stride *= dim;
  }
  return source;
}

/** Writes `bias` into every row of `out`, or zeros without a bias. */
function fillRows(backend: WasmBackend, out: TensorInfo, bias: TensorInfo | undefined, n: number): void {
  const values = heapF32(backend, out);
  if (bias === undefined) {
    values.fill(0);
    return;
  }
  const row = heapF32(backend, bias);
  for (let start = 0; start < values.length; start += n) values.set(row, start);
}

function sgemm(
  backend: WasmBackend,
  blas: NativeBlas,
  plan: Plan,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  beta: number,
): void {
  const { m, n, k, transposeA, transposeB, batch, batchA, batchB } = plan;
  // Taken at call time: growing wasm memory replaces (detaches) the buffer.
  const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
  const aAt = tensorData(backend, a).memoryOffset;
  const bAt = tensorData(backend, b).memoryOffset;
  const outAt = tensorData(backend, out).memoryOffset;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  if (!transposeA && batchB === 1) {
    // Every batch of a against one b: a single GEMM over the stacked rows of a.
    blas.sgemm(heap, false, transposeB, batch * m, n, k, aAt, lda, 0, bAt, ldb, 0, beta, outAt, n, 0, 1);
  } else if ((batchA === 1 || batchA === batch) && (batchB === 1 || batchB === batch)) {
    const strideA = batchA === 1 ? 0 : m * k;
    const strideB = batchB === 1 ? 0 : k * n;
    blas.sgemm(
      heap,
      transposeA,
      transposeB,
      m,
      n,
      k,
      aAt,
      lda,
      strideA,
      bAt,
      ldb,
      strideB,
      beta,
      outAt,
      n,
      m * n,
      batch,
    );
  } else {
    for (const [index, [ai, bi]] of plan.pairs.entries()) {
      const aSlice = aAt + 4 * ai * m * k;
      const bSlice = bAt + 4 * bi * k * n;
      const outSlice = outAt + 4 * index * m * n;
      blas.sgemm(
        heap,
        transposeA,
        transposeB,
        m,
        n,
        k,
        aSlice,
        lda,
        0,
        bSlice,
        ldb,
        0,
        beta,
        outSlice,
        n,
        0,
        1,
      );
    }
  }
}

/**
 * A single product with far more output columns than rows (the weight gradients `x^T dy` of wide layers)
 * as `out^T = op(b)^T op(a)^T`, transposed into `out`. XNNPACK packs its right operand whole for every
 * thread and splits the left one's rows: this way the packed and copied operand is the small one, the
 * split is over the long side, and `a` is used as stored when transposed (a `transposeA` product needs no
 * input transpose). On the benchmark GPT's MLP and QKV weight gradients ([2048, 256]^T x [2048, 1024] and
 * x [2048, 768]) this took pure-wasm training steps from about 1,410 to 1,285 ms (2 threads).
 */
/**
 * Weight gradients `x^T dy` (transposeA, many rows of both operands) of wide layers. Only those: a
 * few-row product such as a sampling step's LM head gains nothing and pays a transpose per call.
 */
function isWideWeightGradient(plan: Plan, bias: TensorInfo | undefined, clamp: MatMulClamp): boolean {
  return (
    plan.batch === 1 &&
    bias === undefined &&
    clamp === 'linear' &&
    plan.transposeA &&
    plan.m >= 64 &&
    plan.n >= 2 * plan.m
  );
}

function xnnpackSwapped(
  backend: WasmBackend,
  plan: Plan,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
): void {
  const { m, n } = plan;
  const swapped: Plan = {
    ...plan,
    m: n,
    n: m,
    transposeA: !plan.transposeB,
    transposeB: !plan.transposeA,
  };
  const outT = backend.makeOutput([n, m], 'float32');
  try {
    xnnpack(backend, swapped, b, a, outT, undefined, 'linear');
    // Views after every allocation (the product allocates temporaries).
    transposeInto(heapF32(backend, outT), heapF32(backend, out), 1, n, m);
  } finally {
    backend.disposeData(outT.dataId);
  }
}

function xnnpack(
  backend: WasmBackend,
  plan: Plan,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  bias: TensorInfo | undefined,
  clamp: MatMulClamp,
): void {
  const run = wasmFusedMatMul;
  if (run === undefined) throw new Error('wasm matMul used before its kernel setup ran');
  const { m, n, k, batch, batchA, batchB } = plan;
  const temporaries: TensorInfo[] = [];
  const aliases: TensorInfo[] = [];
  const slice = (tensor: TensorInfo, index: number, size: number): number => {
    const alias = aliasHeap(
      backend,
      tensorData(backend, tensor).memoryOffset + 4 * index * size,
      [size],
      'float32',
    );
    aliases.push(alias);
    return tensorId(backend, alias);
  };
  // XNNPACK's matmul takes untransposed operands only. A transpose with a dimension of 1 moves no data.
  const rowMajor = (tensor: TensorInfo, transposed: boolean, count: number, rows: number, cols: number) => {
    if (!transposed || rows === 1 || cols === 1) return tensor;
    let result: TensorInfo;
    if (count === 1) {
      result = backend.makeOutput([count, cols, rows], 'float32');
      // Views after the allocation: growing the heap detaches earlier ones.
      transposeInto(heapF32(backend, tensor), heapF32(backend, result), count, rows, cols);
    } else {
      // Many small matrices ([32, 256, 256] attention probabilities): the stock kernel is as fast.
      const view: TensorInfo = { dataId: tensor.dataId, shape: [count, rows, cols], dtype: tensor.dtype };
      result = runKernel(backend, Transpose, { x: view }, { perm: [0, 2, 1] });
    }
    temporaries.push(result);
    return result;
  };
  try {
    // Large products are split across the matmul worker pool (output rows or batch slices).
    const pool = matMulPoolFor(2 * batch * m * n * k, batchA * m * k + batchB * k * n + batch * m * n);
    if (
      pool !== undefined &&
      plan.transposeA &&
      batch === 1 &&
      m >= pool.threads &&
      k > 1 &&
      bias === undefined &&
      clamp === 'linear'
    ) {
      const bKN = rowMajor(b, plan.transposeB, batchB, n, k);
      transposedRowSplit(backend, pool, plan, a, bKN, out, slice, run);
      return;
    }
    // Batched `a^T` products split by batch (attention's P^T dO): each thread transposes its own slices.
    const deferA =
      pool !== undefined &&
      plan.transposeA &&
      batchB !== 1 &&
      batchA === batch &&
      batch >= pool.threads &&
      m > 1 &&
      k > 1;
    const aMK = deferA ? a : rowMajor(a, plan.transposeA, batchA, k, m);
    const bKN = rowMajor(b, plan.transposeB, batchB, n, k);
    const multiply = (aId: number, rows: number, bId: number, biasId: number, outId: number) =>
      run(
        aId,
        shapeBytes(rows, k),
        3,
        bId,
        shapeBytes(k, n),
        3,
        0,
        0,
        CLAMP_CODES[clamp],
        biasId,
        0,
        0,
        outId,
      );
    const at = (tensor: TensorInfo | undefined) =>
      tensor === undefined ? 0 : tensorData(backend, tensor).memoryOffset;
    const [aAt, bAt, biasAt, outAt] = [at(aMK), at(bKN), at(bias), at(out)];
    const view = (offset: number, floats: number) =>
      new Float32Array(backend.wasm.HEAPU8.buffer, offset, floats);
    const job = { k, n, hasBias: bias !== undefined, clamp: CLAMP_CODES[clamp] };
    if (batchB === 1) {
      // One b for every batch (then batchA is the whole batch): one multiply over the stacked rows of a.
      const biasId = bias === undefined ? 0 : tensorId(backend, bias);
      const bId = weightsId(backend, bKN, k, slice);
      const rows = batch * m;
      const stacked = (end: number) =>
        multiply(tensorId(backend, aMK), end, bId, biasId, tensorId(backend, out));
      if (pool === undefined || rows < pool.threads) {
        stacked(rows);
        return;
      }
      splitAcross(
        pool,
        rows,
        (start, end) => ({
          job: { ...job, count: 1, m: end - start, sharedA: true, sharedB: true },
          fill: (data, layout) => {
            data.set(view(aAt + 4 * start * k, (end - start) * k), layout.a);
            data.set(view(bAt, k * n), layout.b);
            if (bias !== undefined) data.set(view(biasAt, n), layout.bias);
          },
        }),
        stacked,
        (start, end, data, layout) =>
          view(outAt + 4 * start * n, (end - start) * n).set(
            data.subarray(layout.out, layout.out + (end - start) * n),
          ),
      );
      return;
    }
    // XNNPACK caches an operator per (b, bias) id pair; an aliased bias goes away with it instead of
    // accumulating cache keys on the real bias.
    const biasId = bias === undefined ? 0 : slice(bias, 0, n);
    const aWhole = batchA === 1 ? tensorId(backend, aMK) : undefined;
    const pairs = (end: number) => {
      let aRows = aMK;
      if (deferA) {
        aRows = backend.makeOutput([end, m, k], 'float32');
        temporaries.push(aRows);
        transposeInto(heapF32(backend, a), heapF32(backend, aRows), end, k, m);
      }
      for (const [index, [ai, bi]] of plan.pairs.slice(0, end).entries()) {
        multiply(
          aWhole ?? slice(aRows, ai, m * k),
          m,
          slice(bKN, bi, k * n),
          biasId,
          slice(out, index, m * n),
        );
      }
    };
    if (pool === undefined || batch < pool.threads) {
      pairs(batch);
      return;
    }
    splitAcross(
      pool,
      batch,
      (start, end) => ({
        job: { ...job, count: end - start, m, sharedA: batchA === 1, sharedB: false, transposedA: deferA },
        fill: (data, layout) => {
          for (let index = start; index < end; index++) {
            const [ai, bi] = plan.pairs[index] ?? [0, 0];
            if (batchA !== 1) data.set(view(aAt + 4 * ai * m * k, m * k), layout.a + (index - start) * m * k);
            data.set(view(bAt + 4 * bi * k * n, k * n), layout.b + (index - start) * k * n);
          }
          if (batchA === 1) data.set(view(aAt, m * k), layout.a);
          if (bias !== undefined) data.set(view(biasAt, n), layout.bias);
        },
      }),
      pairs,
      (start, end, data, layout) =>
        view(outAt + 4 * start * m * n, (end - start) * m * n).set(
          data.subarray(layout.out, layout.out + (end - start) * m * n),
        ),
    );
  } finally {
    for (const alias of aliases) releaseAlias(backend, alias);
    for (const temporary of temporaries) backend.disposeData(temporary.dataId);
  }
}

/**
 * A single `a^T b` product (a stored [K, M]) split by output rows, each thread transposing its own
 * columns of `a`: the worker gets them as stored and transposes them itself, in parallel with the main
 * thread's share. Materialising the whole `a^T` first ran serially on the main thread: about 5 ms of a
 * 25 ms weight gradient of the benchmark GPT ([2048, 256]^T x [2048, 1024] and its swapped form).
 */
function transposedRowSplit(
  backend: WasmBackend,
  pool: MatMulPool,
  plan: Plan,
  a: TensorInfo,
  bKN: TensorInfo,
  out: TensorInfo,
  slice: (tensor: TensorInfo, index: number, size: number) => number,
  run: WasmFusedMatMul,
): void {
  const { m, n, k } = plan;
  const at = (tensor: TensorInfo) => tensorData(backend, tensor).memoryOffset;
  const view = (offset: number, floats: number) =>
    new Float32Array(backend.wasm.HEAPU8.buffer, offset, floats);
  const bId = weightsId(backend, bKN, k, slice);
  splitAcross(
    pool,
    m,
    (start, end) => ({
      job: {
        count: 1,
        m: end - start,
        k,
        n,
        sharedA: true,
        sharedB: true,
        transposedA: true,
        hasBias: false,
        clamp: 0,
      },
      fill: (data, layout) => {
        const width = end - start;
        const source = view(at(a), k * m);
        for (let row = 0; row < k; row++) {
          data.set(source.subarray(row * m + start, row * m + end), layout.a + row * width);
        }
        data.set(view(at(bKN), k * n), layout.b);
      },
    }),
    (end) => {
      const aMK = backend.makeOutput([end, k], 'float32');
      try {
        transposeColumnsInto(heapF32(backend, a), heapF32(backend, aMK), k, m, end);
        run(
          tensorId(backend, aMK),
          shapeBytes(end, k),
          3,
          bId,
          shapeBytes(k, n),
          3,
          0,
          0,
          0,
          0,
          0,
          0,
          tensorId(backend, out),
        );
      } finally {
        backend.disposeData(aMK.dataId);
      }
    },
    (start, end, data, layout) =>
      view(at(out) + 4 * start * n, (end - start) * n).set(
        data.subarray(layout.out, layout.out + (end - start) * n),
      ),
  );
}

/** The first `width` columns of the [rows, cols] matrix at `base` in `source`, transposed to [width, rows] at `base` in `target`. */
function transposeColumnsInto(
  source: Float32Array,
  target: Float32Array,
  rows: number,
  cols: number,
  width: number,
  base = 0,
): void {
  const fullRows = rows - (rows % 4);
  for (let c0 = 0; c0 < width; c0 += TILE) {
    const c1 = Math.min(c0 + TILE, width);
    for (let r = 0; r < fullRows; r += 4) {
      let from = base + r * cols + c0;
      let to = base + c0 * rows + r;
      for (let c = c0; c < c1; c++) {
        target[to] = source[from] as number;
        target[to + 1] = source[from + cols] as number;
        target[to + 2] = source[from + 2 * cols] as number;
        target[to + 3] = source[from + 3 * cols] as number;
        from++;
        to += rows;
      }
    }
    for (let r = fullRows; r < rows; r++) {
      for (let c = c0; c < c1; c++) target[base + c * rows + r] = source[base + r * cols + c] as number;
    }
  }
}

/** The [1, rows, cols] shape argument of the wasm matmul, as the bytes of an Int32Array. */
function shapeBytes(rows: number, cols: number): Uint8Array {
  return new Uint8Array(new Int32Array([1, rows, cols]).buffer);
}

/** The [K, N] each tensor's data was last packed as by XNNPACK (recorded as K). */
const packedAs = new WeakMap<DataId, number>();

/**
 * The id to pass as XNNPACK weights. XNNPACK caches packed weights under the tensor id alone, and reshaped
 * views share their source's id: a view multiplied with another [K, N] gets a fresh alias instead of the
 * stale packed weights.
 */
function weightsId(
  backend: WasmBackend,
  b: TensorInfo,
  k: number,
  slice: (tensor: TensorInfo, index: number, size: number) => number,
): number {
  const packedK = packedAs.get(b.dataId);
  if (packedK === undefined) packedAs.set(b.dataId, k);
  else if (packedK !== k) return slice(b, 0, util.sizeFromShape(b.shape));
  return tensorId(backend, b);
}

/** Columns per pass of `transposeInto`: 64 output rows being written stay in L1. */
const TILE = 64;

/**
 * Writes `count` [rows, cols] matrices of `source` transposed into `target` ([count, cols, rows]): four
 * source rows at a time over `TILE` columns, so reads are contiguous and writes land in 4-float runs.
 * 2-8x faster than the stock wasm Transpose on the matmul operands of the benchmark GPT.
 */
export function transposeInto(
  source: Float32Array,
  target: Float32Array,
  count: number,
  rows: number,
  cols: number,
): void {
  const size = rows * cols;
  for (let batch = 0; batch < count; batch++)
    transposeColumnsInto(source, target, rows, cols, cols, batch * size);
}
