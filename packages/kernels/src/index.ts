export { type BackendChoice, type BackendInfo, type InitBackendOptions, initBackend } from './backend.ts';
export { BackendUnavailableError, KernelsConfigError, KernelsError } from './errors.ts';
export {
  type DecodeAttentionAttrs,
  type DecodeAttentionResult,
  decodeAttention,
  hasDecodeAttention,
} from './kernels/DecodeAttention.ts';
export { embedRows } from './kernels/EmbedRows.ts';
export { Adam, type AdamOptions, type AdamState } from './ops/adam.ts';
export { biasGelu } from './ops/bias_gelu.ts';
export { clipByGlobalNorm } from './ops/clip_by_global_norm.ts';
export { entropyFromLogits } from './ops/entropy_from_logits.ts';
export { layerNorm } from './ops/layer_norm.ts';
export { logProbsOfTargets } from './ops/log_probs_of_targets.ts';
export { rmsNorm } from './ops/rms_norm.ts';
export { siluMul } from './ops/silu_mul.ts';
export { MatMulPoolError } from './wasm/matmul-pool.ts';
