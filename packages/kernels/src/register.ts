import {
  type GradConfig,
  getKernel,
  type KernelConfig,
  registerGradient,
  registerKernel,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { fusedMatMulConfig } from './kernels/_FusedMatMul.ts';
import { batchMatMulConfig } from './kernels/BatchMatMul.ts';
import { castConfig } from './kernels/Cast.ts';
import { decodeAttentionKernels } from './kernels/DecodeAttention.ts';
import { embedRowsKernels } from './kernels/EmbedRows.ts';
import { gatherV2Config } from './kernels/GatherV2.ts';
import { identityConfig } from './kernels/Identity.ts';
import { sliceConfig } from './kernels/Slice.ts';
import { splitVConfig } from './kernels/SplitV.ts';
import { sumConfig } from './kernels/Sum.ts';
import { rememberStockKernel } from './kernels/stock.ts';
import { unpackConfig } from './kernels/Unpack.ts';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.ts';
import { adamUpdateKernels } from './ops/adam.ts';
import { biasGeluGradConfig, biasGeluKernels } from './ops/bias_gelu.ts';
import { sumOfSquaresKernels } from './ops/clip_by_global_norm.ts';
import { entropyFromLogitsGradConfig, entropyFromLogitsKernels } from './ops/entropy_from_logits.ts';
import { layerNormGradConfig, layerNormKernels } from './ops/layer_norm.ts';
import { logProbsOfTargetsGradConfig, logProbsOfTargetsKernels } from './ops/log_probs_of_targets.ts';
import { rmsNormGradConfig, rmsNormKernels } from './ops/rms_norm.ts';
import { siluMulGradConfig, siluMulKernels } from './ops/silu_mul.ts';

/**
 * Fused ops: one JS loop per kernel, run on wasm heap views and on cpu backend data. Scalar JS loses to the
 * stock wasm kernels' SIMD on plain element-wise work (GELU, SiLU, Adam, sums of squares: 0.2-0.8x), so wasm
 * gets only the kernels that beat the stock-op composite there (they save passes, exps and reductions:
 * layer norm 1.0-2.7x, log-probs 1.3-1.5x, entropy 1.1-1.4x forward+backward); the other ops compose stock
 * kernels on wasm. cpu gets them all.
 */
const FUSED_ON_WASM = [layerNormKernels, logProbsOfTargetsKernels, entropyFromLogitsKernels];
/**
 * Registered on wasm too, but their ops use them there only while the native addon is active (it runs them
 * with AVX2 on the heap; see `useFusedKernel`).
 */
const NATIVE_ON_WASM = [biasGeluKernels, adamUpdateKernels];
const FUSED_ON_CPU = [
  ...FUSED_ON_WASM,
  biasGeluKernels,
  rmsNormKernels,
  siluMulKernels,
  sumOfSquaresKernels,
  adamUpdateKernels,
];

/**
 * Every linewise kernel, per backend. Entries override stock tfjs kernels of the same name (wasm) or add
 * kernels tfjs lacks (fused ops, on every backend).
 */
const KERNELS: Record<string, KernelConfig[]> = {
  wasm: [
    batchMatMulConfig,
    fusedMatMulConfig,
    sliceConfig,
    splitVConfig,
    unpackConfig,
    unsortedSegmentSumConfig,
    sumConfig,
    identityConfig,
    castConfig,
    gatherV2Config,
    ...decodeAttentionKernels.wasm,
    ...embedRowsKernels.wasm,
    ...[...FUSED_ON_WASM, ...NATIVE_ON_WASM].flatMap((kernels) => kernels.wasm),
  ],
  cpu: [
    ...FUSED_ON_CPU.flatMap((kernels) => kernels.cpu),
    // generate's decode step (single-query attention over a preallocated KV cache), on cpu as well.
    ...decodeAttentionKernels.cpu,
    ...embedRowsKernels.cpu,
  ],
  tensorflow: [],
};

/** Gradients of the ops linewise adds (stock ops keep tfjs's gradients). */
const GRADIENTS: GradConfig[] = [
  biasGeluGradConfig,
  layerNormGradConfig,
  rmsNormGradConfig,
  siluMulGradConfig,
  logProbsOfTargetsGradConfig,
  entropyFromLogitsGradConfig,
];

/** What `initBackend` reports for each registered kernel group. */
const ACCELERATIONS: Record<string, string[]> = {
  wasm: [
    'xnnpack-batch-matmul',
    'heap-view-slice',
    'unsorted-segment-sum',
    'leading-axis-sum',
    'shared-identity',
    'shared-cast',
    'row-gather',
    'fused-ops',
  ],
  cpu: ['fused-ops'],
  tensorflow: [],
};

/**
 * Registers linewise kernels and gradients for `backendName` (before the backend initialises, so that
 * setup functions run). Returns the accelerations now active on it.
 */
export function registerKernels(backendName: string): string[] {
  for (const config of KERNELS[backendName] ?? []) {
    // tfjs warns when a registered kernel is registered again; replace quietly instead.
    const existing = getKernel(config.kernelName, backendName);
    if (existing !== undefined) {
      // The first one seen is stock tfjs's: kept for the cases an override hands back.
      rememberStockKernel(existing);
      unregisterKernel(config.kernelName, backendName);
    }
    registerKernel(config);
  }
  for (const config of GRADIENTS) registerGradient(config);
  return [...(ACCELERATIONS[backendName] ?? [])];
}
