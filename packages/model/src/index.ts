export {
  type CheckpointWeights,
  CONFIG_FILE,
  type ImportHfOptions,
  importHf,
  type LoadOptions,
  loadCheckpoint,
  readCheckpointWeights,
  type SaveCheckpointOptions,
  saveCheckpoint,
} from './checkpoint.ts';
export {
  ARCHITECTURES,
  type Architecture,
  eosIds,
  gpt2Config,
  llamaConfig,
  type ModelConfig,
  type ModelConfigInput,
  qwen2Config,
  resolveConfig,
  validateConfig,
} from './config.ts';
export {
  CheckpointError,
  HfConfigError,
  ModelConfigError,
  ModelError,
  ModelInputError,
  ModelStateError,
  SafetensorsError,
  UnsupportedDtypeError,
  WeightsError,
  type WeightsErrorReason,
} from './errors.ts';
export type {
  FinishReason,
  GenerateOptions,
  GenerateTokenizer,
  GenerationResult,
} from './generate.ts';
export {
  type ConfigToHfOptions,
  configFromHf,
  configToHf,
  HF_MODEL_TYPES,
  type HfConfigResult,
  type LinewiseConfigBlock,
} from './hf-config.ts';
export { type MatrixInput, pairMask, type TokenInput } from './inputs.ts';
export {
  type CreateOptions,
  type ForwardOptions,
  type ForwardResult,
  type FromWeightsOptions,
  type KvCache,
  TransformerModel,
} from './model.ts';
export { Rng } from './random.ts';
export {
  decodeSafetensors,
  decodeTensor,
  encodeSafetensors,
  type LazyTensorToWrite,
  MAX_HEADER_BYTES,
  openSafetensorsCheckpoint,
  parseHeaderLength,
  parseSafetensorsHeader,
  READABLE_DTYPES,
  readSafetensorsFile,
  SAFETENSORS_DTYPES,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  SafetensorsCheckpoint,
  type SafetensorsDtype,
  type SafetensorsHeader,
  SafetensorsReader,
  type SafetensorsTensorInfo,
  type TensorData,
  type TensorToWrite,
  WRITABLE_DTYPES,
  type WritableDtype,
  writeSafetensorsFile,
} from './safetensors.ts';
export { type Choice, chooseToken, type SamplingOptions } from './sampling.ts';
export {
  nextTokenLoss,
  type StepOptimizer,
  type TrainBatch,
  type TrainStepOptions,
  type TrainStepResult,
  trainStep,
} from './train.ts';
export {
  embeddingName,
  expectedWeightShapes,
  INIT_STD,
  initialWeights,
  SCALAR_HEAD_BIAS,
  SCALAR_HEAD_WEIGHT,
  type WeightLayoutOptions,
} from './weights.ts';
