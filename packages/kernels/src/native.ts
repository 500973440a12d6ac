import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The N-API addon built from native/linewise_blas.c by scripts/build-native.mjs. */
export interface NativeBlas {
  /**
   * For i < batch: C_i = op(A_i) * op(B_i) + beta * C_i, row-major, with X_i at byte offset x + 4 * i *
   * strideX of `heap`. Leading dimensions and strides count floats; a stride of 0 broadcasts a matrix.
   */
  sgemm(
    heap: ArrayBuffer,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    strideA: number,
    b: number,
    ldb: number,
    strideB: number,
    beta: number,
    c: number,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
  /** `out[j] = sum over rows of x[row, j]` for a row-major rows x n matrix (byte offsets into `heap`). */
  colSum(heap: ArrayBuffer, x: number, rows: number, n: number, out: number): void;
  /** `y = gelu_new(x + bias)`, bias [n] broadcast over rows. */
  biasGelu(heap: ArrayBuffer, x: number, bias: number, rows: number, n: number, y: number): void;
  /** `dx = dy * gelu_new'(x + bias)` and `dbias` = column sums of dx. */
  biasGeluGrad(
    heap: ArrayBuffer,
    dy: number,
    x: number,
    bias: number,
    rows: number,
    n: number,
    dx: number,
    dbias: number,
  ): void;
  /** Layer norm over rows of n. */
  layerNorm(
    heap: ArrayBuffer,
    x: number,
    gamma: number,
    beta: number,
    rows: number,
    n: number,
    epsilon: number,
    y: number,
  ): void;
  /** Layer norm's dx, dgamma and dbeta. */
  layerNormGrad(
    heap: ArrayBuffer,
    dy: number,
    x: number,
    gamma: number,
    rows: number,
    n: number,
    epsilon: number,
    dx: number,
    dgamma: number,
    dbeta: number,
  ): void;
  /**
   * One AdamW update of `size` floats: `m' = b1 m + (1-b1) g`, `v' = b2 v + (1-b2) g^2`,
   * `p' = p * decay - stepSize * m' / (sqrt(v') * rootCorrection + epsilon)`.
   */
  adamUpdate(
    heap: ArrayBuffer,
    param: number,
    grad: number,
    m: number,
    v: number,
    size: number,
    paramOut: number,
    mOut: number,
    vOut: number,
    stepSize: number,
    beta1: number,
    beta2: number,
    rootCorrection: number,
    epsilon: number,
    decay: number,
  ): void;
  /** Log softmax of each logits row [rows, vocab] at its int32 target (0 for targets outside the vocabulary). */
  logProbsOfTargets(
    heap: ArrayBuffer,
    logits: number,
    targets: number,
    rows: number,
    vocab: number,
    out: number,
  ): void;
  /** `dlogits = dy * (onehot(target) - softmax(logits))`, rows with an outside target 0. */
  logProbsOfTargetsGrad(
    heap: ArrayBuffer,
    dy: number,
    logits: number,
    targets: number,
    logProbs: number,
    rows: number,
    vocab: number,
    dlogits: number,
  ): void;
  /** Which build of the element-wise kernels runs: `avx2` (AVX2 + FMA) or `baseline`. */
  simd(): string;
  setThreads(threads: number): void;
  getThreads(): number;
  /** OpenBLAS's build description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH ... MAX_THREADS=64`. */
  config(): string;
}

// src/native.ts and the bundled dist/index.js are both one folder below the package root.
const ADDON = '../native/build/Release/linewise_blas.node';

/** The loaded addon, `null` once loading failed or found nothing. */
let addon: NativeBlas | null | undefined;
/** OpenBLAS's thread count before linewise changed it (OPENBLAS_NUM_THREADS or all cores). */
let defaultThreads = 1;
let active: NativeBlas | undefined;

/**
 * Loads the native BLAS accelerator if it was built and routes the wasm matmul kernels through it, with
 * `threads` BLAS threads (default: OpenBLAS's own default). Returns undefined, leaving the kernels on
 * pure wasm, when it was not built or `LINEWISE_NATIVE=0`.
 */
export function loadNativeBlas(threads?: number): { library: string; threads: number } | undefined {
  active = undefined;
  if (process.env.LINEWISE_NATIVE === '0') return undefined;
  const blas = loadAddon();
  if (blas === undefined) return undefined;
  blas.setThreads(threads ?? defaultThreads);
  active = blas;
  return { library: blas.config().split(' ', 1)[0]?.toLowerCase() ?? 'blas', threads: blas.getThreads() };
}

/** Sends the wasm matmul kernels back to XNNPACK (until the next `loadNativeBlas`). */
export function disableNativeBlas(): void {
  active = undefined;
}

/** The accelerator the matmul kernels use now, if any. */
export function activeNativeBlas(): NativeBlas | undefined {
  return active;
}

function loadAddon(): NativeBlas | undefined {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    const path = fileURLToPath(new URL(ADDON, import.meta.url));
    addon = null;
    if (existsSync(path)) {
      try {
        addon = require(path) as NativeBlas;
        defaultThreads = addon.getThreads();
      } catch (error) {
        // Built, but it no longer loads (e.g. OpenBLAS was uninstalled): run on wasm and say why.
        process.emitWarning(`linewise native BLAS not loaded: ${(error as Error).message}`);
      }
    }
  }
  return addon ?? undefined;
}
