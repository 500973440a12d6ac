import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.ts';
import { activeNativeBlas, loadNativeBlas, type NativeBlas } from '../src/native.ts';
import { nativeSkipReason } from './support/native.ts';
import { relativeError, seededValues } from './support/numbers.ts';

const skip = nativeSkipReason();

/** Row-major reference for one batch of NativeBlas.sgemm (offsets and strides in floats here). */
function referenceGemm(
  heap: Float32Array,
  transA: boolean,
  transB: boolean,
  [m, n, k]: [number, number, number],
  [a, lda, b, ldb, c, ldc]: number[],
  beta: number,
): Float32Array {
  const out = new Float32Array(m * n);
  const at = (index: number) => heap[index] ?? Number.NaN;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = beta * at((c ?? 0) + i * (ldc ?? 0) + j);
      for (let p = 0; p < k; p++) {
        const x = at((a ?? 0) + (transA ? p * (lda ?? 0) + i : i * (lda ?? 0) + p));
        const y = at((b ?? 0) + (transB ? j * (ldb ?? 0) + p : p * (ldb ?? 0) + j));
        sum += x * y;
      }
      out[i * n + j] = sum;
    }
  }
  return out;
}

describe.skipIf(skip !== undefined)(
  `native BLAS addon${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    const blas = (): NativeBlas => {
      loadNativeBlas();
      const active = activeNativeBlas();
      if (active === undefined) throw new Error('native BLAS did not load');
      return active;
    };

    afterEach(() => {
      delete process.env.LINEWISE_NATIVE;
    });

    it('loads OpenBLAS with the requested threads, and its default threads again without', () => {
      const initial = loadNativeBlas();
      expect(initial?.library).toBe('openblas');
      expect(initial?.threads).toBeGreaterThanOrEqual(1);
      expect(loadNativeBlas(1)).toEqual({ library: 'openblas', threads: 1 });
      expect(activeNativeBlas()?.config()).toMatch(/^OpenBLAS /);
      expect(loadNativeBlas()).toEqual(initial);
    });

    it('stays off with LINEWISE_NATIVE=0, even after it was on', () => {
      loadNativeBlas();
      process.env.LINEWISE_NATIVE = '0';
      expect(loadNativeBlas()).toBeUndefined();
      expect(activeNativeBlas()).toBeUndefined();
    });

    it('initBackend({ native: false }) returns to pure wasm after a native initBackend', async () => {
      const native = await initBackend({ backend: 'wasm', threads: 1 });
      expect(native.accelerations).toContain('native-blas:openblas');
      expect(native.threads).toBe(1);
      expect(activeNativeBlas()).toBeDefined();
      const wasm = await initBackend({ backend: 'wasm', native: false });
      expect(wasm.accelerations.some((name) => name.startsWith('native-blas'))).toBe(false);
      // Pure wasm splits large matmuls across a worker per core (at most 4 by default).
      expect(wasm.threads).toBe(Math.min(availableParallelism(), 4));
      expect(activeNativeBlas()).toBeUndefined();
    });

    it.each([
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ])('sgemm(transA=%s, transB=%s) runs a strided batch, broadcasting a stride of 0', (transA, transB) => {
      const [m, n, k, batch] = [3, 4, 5, 3];
      const [lda, ldb, ldc] = [transA ? m + 1 : k + 2, transB ? k + 3 : n + 1, n + 2];
      const [aSize, bSize, cSize] = [(transA ? k : m) * lda, (transB ? n : k) * ldb, m * ldc];
      // Floats: A batches at 4, one B (stride 0) after them, C batches last, prefilled for beta = 1.
      const a = 4;
      const b = a + batch * aSize;
      const c = b + bSize;
      const heap = seededValues(c + batch * cSize, 42);
      const expected = Array.from({ length: batch }, (_, i) =>
        referenceGemm(heap, transA, transB, [m, n, k], [a + i * aSize, lda, b, ldb, c + i * cSize, ldc], 1),
      );
      blas().sgemm(
        heap.buffer,
        transA,
        transB,
        m,
        n,
        k,
        4 * a,
        lda,
        aSize,
        4 * b,
        ldb,
        0,
        1,
        4 * c,
        ldc,
        cSize,
        batch,
      );
      for (const [i, want] of expected.entries()) {
        const rows = Array.from({ length: m }, (_, row) => {
          const start = c + i * cSize + row * ldc;
          return Array.from(heap.subarray(start, start + n));
        });
        expect(relativeError(rows.flat(), want)).toBeLessThan(1e-5);
      }
    });

    it('sgemm rejects memory outside the buffer, misaligned offsets, short leading dimensions and non-buffers', () => {
      const heap = new ArrayBuffer(4 * 64);
      const gemm = blas();
      expect(() => gemm.sgemm(heap, false, false, 4, 4, 4, 0, 4, 0, 64, 4, 0, 0, 196, 4, 0, 1)).toThrow(
        /C extends past the end/,
      );
      expect(() => gemm.sgemm(heap, false, false, 2, 2, 2, 0, 2, 40, 16, 2, 0, 0, 32, 2, 4, 5)).toThrow(
        /A extends past the end/,
      );
      expect(() => gemm.sgemm(heap, false, false, 2, 2, 2, 2, 2, 0, 16, 2, 0, 0, 32, 2, 0, 1)).toThrow(
        /multiple of 4/,
      );
      expect(() => gemm.sgemm(heap, false, true, 2, 2, 3, 0, 3, 0, 16, 2, 0, 0, 64, 2, 0, 1)).toThrow(
        /leading dimension of B/,
      );
      expect(() => gemm.sgemm(heap, false, false, -1, 2, 2, 0, 2, 0, 16, 2, 0, 0, 32, 2, 0, 1)).toThrow(
        RangeError,
      );
      expect(() =>
        gemm.sgemm(
          new Float32Array(64) as unknown as ArrayBuffer,
          false,
          false,
          2,
          2,
          2,
          0,
          2,
          0,
          16,
          2,
          0,
          0,
          32,
          2,
          0,
          1,
        ),
      ).toThrow(TypeError);
    });
  },
);
