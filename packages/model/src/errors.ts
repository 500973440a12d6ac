/**
 * Every error @linewise/model throws on purpose. All of them extend `ModelError`, so callers can tell
 * them from tfjs or programming errors with one `instanceof`.
 */
export class ModelError extends Error {
  override name = 'ModelError';
}

/** A `ModelConfig` field is missing, of the wrong type, or inconsistent with another field. */
export class ModelConfigError extends ModelError {
  override name = 'ModelConfigError';
  constructor(
    /** The offending field of `ModelConfig`, e.g. `numKvHeads`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Why a weight was refused by `TransformerModel.fromWeights`. */
export type WeightsErrorReason = 'missing' | 'unexpected' | 'shape' | 'dtype';

/**
 * A weight map does not fit the configuration: a tensor is missing, unexpected, mis-shaped or not
 * float32. `tensor` is the Hugging Face tensor name.
 */
export class WeightsError extends ModelError {
  override name = 'WeightsError';
  constructor(
    /** Hugging Face name of the tensor, e.g. `model.layers.3.self_attn.k_proj.weight`. */
    readonly tensor: string,
    /** The shape the configuration asks for; `null` for a tensor the configuration has no use for. */
    readonly expected: readonly number[] | null,
    /** The shape found; `null` for a missing tensor. */
    readonly actual: readonly number[] | null,
    readonly reason: WeightsErrorReason = expected === null
      ? 'unexpected'
      : actual === null
        ? 'missing'
        : 'shape',
    message?: string,
  ) {
    super(message ?? WeightsError.describe(tensor, expected, actual, reason));
  }

  private static describe(
    tensor: string,
    expected: readonly number[] | null,
    actual: readonly number[] | null,
    reason: WeightsErrorReason,
  ): string {
    const show = (shape: readonly number[] | null) => (shape === null ? 'none' : `[${shape.join(', ')}]`);
    switch (reason) {
      case 'missing':
        return `weight '${tensor}' is missing (expected shape ${show(expected)})`;
      case 'unexpected':
        return `weight '${tensor}' ${show(actual)} is not part of this configuration`;
      case 'dtype':
        return `weight '${tensor}' must be float32`;
      default:
        return `weight '${tensor}' has shape ${show(actual)}, expected ${show(expected)}`;
    }
  }
}

/** An argument to a model method is invalid (bad shapes, token ids outside the vocabulary, ...). */
export class ModelInputError extends ModelError {
  override name = 'ModelInputError';
  constructor(
    /** The offending argument or option, e.g. `tokens`, `attentionMask`, `maxNewTokens`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The model is not in a state that allows the call: disposed, or asked for values without a scalar head. */
export class ModelStateError extends ModelError {
  override name = 'ModelStateError';
}

/**
 * A safetensors file (or a sharded checkpoint's index) is malformed: truncated, a header length beyond the
 * file, invalid JSON, an unknown dtype, offsets out of range, overlapping or not matching shape x dtype.
 * `field` names the header field at fault, `tensor` the tensor when one is.
 */
export class SafetensorsError extends ModelError {
  override name = 'SafetensorsError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly detail: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${tensor === undefined ? '' : `tensor '${tensor}': `}${field}: ${detail}`);
  }
}

/** A tensor is stored in a dtype the loader cannot convert (e.g. F8_E4M3, U64). */
export class UnsupportedDtypeError extends ModelError {
  override name = 'UnsupportedDtypeError';
  constructor(
    readonly file: string,
    readonly tensor: string,
    readonly dtype: string,
    supported: readonly string[],
  ) {
    super(
      `${file}: tensor '${tensor}': dtype ${dtype} is not supported (supported: ${supported.join(', ')})`,
    );
  }
}

/**
 * A checkpoint directory or file is unusable: no weights file, an unreadable config.json, a shard index
 * that points at the wrong shard. (Missing or mis-shaped tensors are `WeightsError`s naming the file.)
 */
export class CheckpointError extends ModelError {
  override name = 'CheckpointError';
  constructor(
    readonly path: string,
    readonly detail: string,
    readonly tensor?: string,
  ) {
    super(`${path}: ${tensor === undefined ? '' : `tensor '${tensor}': `}${detail}`);
  }
}

/** A Hugging Face `config.json` (or linewise's own) has a field that is missing, of the wrong type or unsupported. */
export class HfConfigError extends ModelError {
  override name = 'HfConfigError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}: field '${field}': ${detail}`);
  }
}
