/**
 * Checkpoints on disk in the Hugging Face layout: `config.json` + `model.safetensors` (or shards with
 * `model.safetensors.index.json`), tensors under their exact HF names.
 *
 * - `saveCheckpoint` / `loadCheckpoint`: linewise's own checkpoints (float32, bit-exact round trip,
 *   scalar head recorded in the config's `linewise` block). transformers can load them too.
 * - `importHf`: local checkpoints of the GPT-2, Llama and Qwen2 families as transformers saves them
 *   (F32/F16/BF16, single or sharded, GPT-2 with or without the `transformer.` prefix, HF's buffers).
 */
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config.ts';
import { CheckpointError, HfConfigError, UnsupportedDtypeError, WeightsError } from './errors.ts';
import { configFromHf, configToHf } from './hf-config.ts';
import { TransformerModel } from './model.ts';
import { openSafetensorsCheckpoint, SAFETENSORS_FILE, writeSafetensorsFile } from './safetensors.ts';
import { expectedWeightShapes, SCALAR_HEAD_BIAS, SCALAR_HEAD_WEIGHT } from './weights.ts';

export const CONFIG_FILE = 'config.json';

export interface SaveCheckpointOptions {
  /** Extra `__metadata__` entries for model.safetensors (`format: pt` is always written). */
  metadata?: Record<string, string>;
}

/**
 * Writes `model` to `dir` (created if needed) as `config.json` + `model.safetensors`, float32, HF names.
 * Both files are written to temporary names in `dir`, synced, then renamed over the old ones (weights
 * first, config last), so an interrupted save never leaves a half-written file over a good checkpoint.
 * Other files in `dir` are left alone.
 */
export async function saveCheckpoint(
  model: TransformerModel,
  dir: string,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const variables = model.variables();
  const config = configToHf(model.config, { scalarHead: model.hasScalarHead, torchDtype: 'float32' });
  await mkdir(dir, { recursive: true });
  const tensors = [...variables].map(([name, variable]) => [
    name,
    {
      shape: variable.shape,
      dtype: 'F32' as const,
      load: async () => (await variable.data()) as Float32Array,
    },
  ]) as [string, { shape: number[]; dtype: 'F32'; load: () => Promise<Float32Array> }][];
  await writeSafetensorsFile(join(dir, SAFETENSORS_FILE), tensors, {
    ...options.metadata,
    format: 'pt',
  });
  await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  await syncDir(dir);
}

export interface LoadOptions {
  /** Whether the variables start trainable (default true). */
  trainable?: boolean;
}

export interface ImportHfOptions extends LoadOptions {
  /**
   * Load the scalar head (`score.weight [1, d]`, `score.bias [1]`): default when the checkpoint holds
   * `score.weight` or its config's `linewise` block says so. `false` ignores stored score tensors.
   */
  scalarHead?: boolean;
  /** Skip tensors the model has no use for instead of throwing `WeightsError` (default false). */
  allowUnexpected?: boolean;
}

/** Weights read from a checkpoint directory, before they become a model. */
export interface CheckpointWeights {
  config: ModelConfig;
  scalarHead: boolean;
  /** float32 tensors by the model's HF name; the caller owns (and disposes) them. */
  weights: Map<string, tf.Tensor>;
  /** Stored tensors that were skipped (HF buffers, a tied `lm_head.weight`, ...), by stored name. */
  ignored: string[];
  /** The weight files read. */
  files: string[];
}

/** Loads a checkpoint written by `saveCheckpoint` (strict: every stored tensor must belong to the model). */
export async function loadCheckpoint(dir: string, options: LoadOptions = {}): Promise<TransformerModel> {
  return toModel(await readCheckpointWeights(dir, { strict: true }), options);
}

/**
 * Imports a local Hugging Face checkpoint directory of the GPT-2 (`model_type: gpt2`), Llama (`llama`) or
 * Qwen2 (`qwen2`) family: `config.json` plus `model.safetensors` or sharded safetensors. F16/BF16/F64
 * weights become float32. Tolerates what transformers itself skips: GPT-2's `attn.bias`/`attn.masked_bias`
 * buffers, rotary `inv_freq` buffers, a stored copy of a tied `lm_head.weight`, and GPT-2 tensors saved
 * without the `transformer.` prefix (`GPT2Model.save_pretrained`).
 *
 * Errors: `HfConfigError` (config field missing/invalid/unsupported, unknown `model_type`), `CheckpointError`
 * (no config or weights file), `SafetensorsError` / `UnsupportedDtypeError` (bad file, dtype),
 * `WeightsError` (missing tensor, wrong shape, unexpected tensor), each naming the file and the tensor/field.
 */
export async function importHf(dir: string, options: ImportHfOptions = {}): Promise<TransformerModel> {
  return toModel(await readCheckpointWeights(dir, { ...options, strict: false }), options);
}

function toModel(read: CheckpointWeights, options: LoadOptions): TransformerModel {
  try {
    return TransformerModel.fromWeights(read.config, read.weights, {
      scalarHead: read.scalarHead,
      trainable: options.trainable ?? true,
      copy: false,
    });
  } finally {
    for (const t of read.weights.values()) t.dispose();
  }
}

/** HF buffers and duplicates that transformers itself ignores when loading. */
function isHfExtra(config: ModelConfig, name: string): boolean {
  if (config.architecture === 'gpt2') {
    if (/^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) return true;
  } else if (/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/.test(name)) {
    return true;
  }
  return config.tieWordEmbeddings && name === 'lm_head.weight';
}

/**
 * Reads config and weights of a checkpoint directory into float32 tensors keyed by the model's HF names,
 * validating every tensor against the configuration. `strict` (what `loadCheckpoint` uses) refuses
 * unknown tensors and HF's extras alike.
 */
export async function readCheckpointWeights(
  dir: string,
  options: { strict?: boolean; scalarHead?: boolean; allowUnexpected?: boolean } = {},
): Promise<CheckpointWeights> {
  const configPath = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (err) {
    throw new CheckpointError(configPath, `cannot read the config: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HfConfigError(configPath, '(root)', `invalid JSON: ${(err as Error).message}`);
  }
  const hf = configFromHf(json, configPath);
  const { config } = hf;
  const strict = options.strict ?? false;

  const store = await openSafetensorsCheckpoint(dir);
  const weights = new Map<string, tf.Tensor>();
  try {
    const stored = new Set(store.names());
    const scalarHead = options.scalarHead ?? (hf.scalarHead || stored.has(SCALAR_HEAD_WEIGHT));
    const expected = expectedWeightShapes(config, { scalarHead });
    const where = describeFiles(store.files, dir);

    // stored name -> model name
    const source = new Map<string, string>();
    for (const name of expected.keys()) {
      if (stored.has(name)) source.set(name, name);
      else if (!strict && config.architecture === 'gpt2' && name.startsWith('transformer.')) {
        const bare = name.slice('transformer.'.length);
        if (stored.has(bare)) source.set(name, bare);
      }
    }
    for (const [name, shape] of expected) {
      if (!source.has(name)) {
        throw new WeightsError(
          name,
          shape,
          null,
          'missing',
          `${where}: weight '${name}' is missing (expected shape [${shape.join(', ')}])`,
        );
      }
    }
    const used = new Set(source.values());
    const ignored: string[] = [];
    for (const name of stored) {
      if (used.has(name)) continue;
      const headSkipped = !scalarHead && (name === SCALAR_HEAD_WEIGHT || name === SCALAR_HEAD_BIAS);
      if (!strict && (isHfExtra(config, name) || headSkipped || options.allowUnexpected)) {
        ignored.push(name);
        continue;
      }
      const info = store.info(name);
      throw new WeightsError(
        name,
        null,
        info.shape,
        'unexpected',
        `${info.file}: weight '${name}' [${info.shape.join(', ')}] is not part of this ${config.architecture} configuration`,
      );
    }
    for (const [name, shape] of expected) {
      const from = source.get(name) as string;
      const info = store.info(from);
      if (info.shape.length !== shape.length || info.shape.some((n, i) => n !== shape[i])) {
        throw new WeightsError(
          name,
          shape,
          info.shape,
          'shape',
          `${info.file}: weight '${from}' has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}]`,
        );
      }
      const data = await store.read(from);
      if (data.dtype !== 'float32') {
        throw new UnsupportedDtypeError(info.file, from, info.dtype, ['F32', 'F16', 'BF16', 'F64']);
      }
      weights.set(name, tf.tensor(data.data, shape, 'float32'));
    }
    return { config, scalarHead, weights, ignored, files: store.files };
  } catch (err) {
    for (const t of weights.values()) t.dispose();
    throw err;
  } finally {
    await store.close();
  }
}

function describeFiles(files: string[], dir: string): string {
  return files.length === 1 ? (files[0] as string) : `${dir} (${files.length} shards)`;
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, text);
    const fh = await open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Makes the renames durable (best effort: not every platform can fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Windows and some file systems refuse; the renames are still atomic.
  }
}
