import {
  add,
  engine,
  gather,
  type Tensor1D,
  type Tensor2D,
  type TensorInfo,
  tidy,
  util,
} from '@tensorflow/tfjs-core';
import { hasKernel } from '../ops/op_util.ts';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from './array_kernel.ts';

export const EmbedRows = 'LinewiseEmbedRows';

/**
 * `sum_i tables[i][ids[i]]`: rows of each table [V_i, d] picked by int32 ids [N] and added, [N, d], in one
 * kernel (no gradient: inference only, e.g. token plus position embeddings of a decoding step). The stock
 * wasm GatherV2 costs about 140 us for 16 rows of a 512 x 256 table; this is a row copy. Ids must be in
 * range (unchecked in the kernel, as in tfjs's gather).
 */
export function embedRows(pairs: [Tensor2D, Tensor1D][]): Tensor2D {
  util.assert(pairs.length > 0, () => 'embedRows: expected at least one (table, ids) pair');
  const [first] = pairs[0] as [Tensor2D, Tensor1D];
  for (const [table, ids] of pairs) {
    util.assert(
      table.rank === 2 && table.dtype === 'float32' && table.shape[1] === first.shape[1],
      () => `embedRows: tables must be float32 [V, ${first.shape[1]}], got [${table.shape}]`,
    );
    util.assert(
      ids.rank === 1 &&
        ids.dtype === 'int32' &&
        ids.shape[0] === (pairs[0] as [Tensor2D, Tensor1D])[1].shape[0],
      () => `embedRows: ids must be int32 vectors of one length, got [${ids.shape}] ${ids.dtype}`,
    );
  }
  if (hasKernel(EmbedRows)) {
    const inputs: Record<string, Tensor2D | Tensor1D> = {};
    pairs.forEach(([table, ids], i) => {
      inputs[String(2 * i)] = table;
      inputs[String(2 * i + 1)] = ids;
    });
    return engine().runKernel(EmbedRows, inputs, {}) as Tensor2D;
  }
  return embedRowsComposite(pairs);
}

/** `embedRows` from stock ops: the fallback and the test reference. */
export function embedRowsComposite(pairs: [Tensor2D, Tensor1D][]): Tensor2D {
  return tidy(() =>
    pairs.map(([table, ids]) => gather(table, ids) as Tensor2D).reduce((sum, rows) => add(sum, rows)),
  );
}

function compute(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [out] = outputs as [Float32Array];
  const n = (inputs[1] as Int32Array).length;
  const d = n === 0 ? 0 : out.length / n;
  for (let p = 0; p < inputs.length; p += 2) {
    const table = inputs[p] as Float32Array;
    const ids = inputs[p + 1] as Int32Array;
    for (let r = 0; r < n; r++) {
      const src = (ids[r] as number) * d;
      if (p === 0) {
        out.set(table.subarray(src, src + d), r * d);
      } else {
        const dst = r * d;
        for (let j = 0; j < d; j++) out[dst + j] = (out[dst + j] as number) + (table[src + j] as number);
      }
    }
  }
}

const embedRowsKernel: ArrayKernel = {
  kernelName: EmbedRows,
  outputs: (inputs) => [
    {
      shape: [(inputs[1] as TensorInfo).shape[0] as number, (inputs[0] as TensorInfo).shape[1] as number],
      dtype: 'float32',
    },
  ],
  compute,
};

/** wasm (heap views) and cpu configs of `LinewiseEmbedRows`. */
export const embedRowsKernels = arrayKernelConfigs(embedRowsKernel);
