import { biasGelu, decodeAttention, embedRows, layerNorm, rmsNorm, siluMul } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config.ts';
import {
  applyRope,
  attend,
  embeddingLookup,
  halfSwapMatrix,
  linearInOut,
  linearOutIn,
  ropeTables,
} from './layers.ts';
import { embeddingName } from './weights.ts';

/**
 * The transformer maths shared by every `TransformerModel` entry point (training forward, prefill and
 * cached decoding); the class keeps the variables and the bookkeeping.
 */

/** Fused inference weights (see `TransformerModel.inferencePlan`). @internal */
export interface InferencePlan {
  qkvWeight: tf.Tensor2D[];
  qkvBias: (tf.Tensor1D | undefined)[];
  /** Llama/Qwen2 o_proj, gate_proj, up_proj, down_proj and the LM head in [in, out] layout, when small. */
  transposed?: {
    oProj: tf.Tensor2D[];
    gate: tf.Tensor2D[];
    up: tf.Tensor2D[];
    down: tf.Tensor2D[];
    lmHead: tf.Tensor2D;
  };
  ropeFrequencies?: tf.Tensor1D;
  swap?: tf.Tensor2D;
}

/** Frees an `InferencePlan`. @internal */
export function disposeInferencePlan(plan: InferencePlan): void {
  tf.dispose([...plan.qkvWeight, ...plan.qkvBias.filter((t) => t !== undefined)]);
  const t = plan.transposed;
  if (t) tf.dispose([...t.oProj, ...t.gate, ...t.up, ...t.down, t.lmHead]);
  if (plan.ropeFrequencies) plan.ropeFrequencies.dispose();
  if (plan.swap) plan.swap.dispose();
}

/** Per-layer keys and values of a KV cache, each [B, Hkv, S, headDim] (keys after RoPE). */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
}

/** Read access to a model's weights by Hugging Face name. */
export interface WeightSource {
  w1(name: string): tf.Tensor1D;
  w2(name: string): tf.Tensor2D;
  /** `undefined` when the configuration has no such weight (optional biases). */
  optionalW1(name: string): tf.Tensor1D | undefined;
}

/** One decoding step against a preallocated cache (see `TransformerModel.decodeStep`). */
export interface DecodeInput {
  /** int32 [B]: the first real key of each row. */
  starts: tf.Tensor1D;
  /** The cache row this step writes. */
  position: number;
}

export interface BackboneOptions {
  /** Additive attention bias [B|1, 1, T, S]; unused when decoding. */
  bias?: tf.Tensor4D;
  /** Keys/values of earlier positions, prepended (or, when decoding, the preallocated cache). */
  past?: KvCache;
  /** Receives every layer's full keys/values. */
  collect?: KvCache;
  /** Fused inference weights. */
  plan?: InferencePlan;
  /** Decode one token per row with the `decodeAttention` kernel (needs `plan` and `past`). */
  decode?: DecodeInput;
}

/** The transformer stack: embeddings, layers, final norm, for `ids`/`positions` [B, T]. Returns [B*T, d]. */
export function backbone(
  config: ModelConfig,
  weights: WeightSource,
  ropeFrequencies: Float32Array | undefined,
  ids: tf.Tensor2D,
  positions: tf.Tensor2D,
  { bias, past, collect, plan, decode }: BackboneOptions = {},
): tf.Tensor2D {
  const c = config;
  const [b, t] = ids.shape;
  const n = b * t;
  const heads = c.numHeads;
  const kvHeads = c.numKvHeads;
  const hd = c.headDim;
  const scale = 1 / Math.sqrt(hd);
  const flatIds = tf.reshape(ids, [n]) as tf.Tensor1D;
  const flatPositions = tf.reshape(positions, [n]) as tf.Tensor1D;
  // Decoding needs no gradient: one row-copy kernel for the token (and GPT-2 position) embeddings.
  let x = decode
    ? embedRows(
        c.architecture === 'gpt2'
          ? [
              [weights.w2(embeddingName(c)), flatIds],
              [weights.w2('transformer.wpe.weight'), flatPositions],
            ]
          : [[weights.w2(embeddingName(c)), flatIds]],
      )
    : embeddingLookup(weights.w2(embeddingName(c)), flatIds);
  // [N, h*hd] -> [B, h, T, hd]; a reshape when T = 1 (decoding).
  const toHeads = (y: tf.Tensor, h: number): tf.Tensor4D =>
    (t === 1
      ? tf.reshape(y, [b, h, 1, hd])
      : tf.transpose(tf.reshape(y, [b, t, h, hd]), [0, 2, 1, 3])) as tf.Tensor4D;
  const fromHeads = (y: tf.Tensor4D): tf.Tensor2D =>
    tf.reshape(t === 1 ? y : tf.transpose(y, [0, 2, 1, 3]), [n, heads * hd]) as tf.Tensor2D;
  const withPast = (layer: number, k: tf.Tensor4D, v: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] => {
    const pk = past?.keys[layer];
    const pv = past?.values[layer];
    const fullK = pk ? (tf.concat([pk, k], 2) as tf.Tensor4D) : k;
    const fullV = pv ? (tf.concat([pv, v], 2) as tf.Tensor4D) : v;
    collect?.keys.push(fullK);
    collect?.values.push(fullV);
    return [fullK, fullV];
  };
  // Decoding against a preallocated cache: one kernel writes the new key/value row and attends.
  const decodeAttend = (layer: number, qkv: tf.Tensor2D): tf.Tensor2D => {
    const d = decode as DecodeInput;
    const result = decodeAttention(
      qkv,
      past?.keys[layer] as tf.Tensor4D,
      past?.values[layer] as tf.Tensor4D,
      d.starts,
      { numHeads: heads, numKvHeads: kvHeads, position: d.position },
    );
    collect?.keys.push(result.keys);
    collect?.values.push(result.values);
    return result.output;
  };

  if (c.architecture === 'gpt2') {
    if (!decode) x = tf.add(x, embeddingLookup(weights.w2('transformer.wpe.weight'), flatPositions));
    for (let i = 0; i < c.numLayers; i++) {
      const p = `transformer.h.${i}`;
      const h = layerNorm(
        x,
        weights.w1(`${p}.ln_1.weight`),
        weights.w1(`${p}.ln_1.bias`),
        c.normEpsilon,
      ) as tf.Tensor2D;
      const qkv = plan
        ? linearInOut(h, plan.qkvWeight[i] as tf.Tensor2D, plan.qkvBias[i])
        : linearInOut(h, weights.w2(`${p}.attn.c_attn.weight`), weights.w1(`${p}.attn.c_attn.bias`));
      let attention: tf.Tensor2D;
      if (decode) {
        attention = decodeAttend(i, qkv);
      } else {
        // [N, 3d] -> [B, 3H, T, hd] in one 4-D transpose (wasm's 5-D transpose is slow), then a split.
        const [qs, ks, vs] = tf.split(toHeads(qkv, 3 * heads), 3, 1) as [
          tf.Tensor4D,
          tf.Tensor4D,
          tf.Tensor4D,
        ];
        const q = plan ? qs : (tf.mul(qs, scale) as tf.Tensor4D);
        const [k, v] = withPast(i, ks, vs);
        attention = fromHeads(attend(q, k, v, bias as tf.Tensor4D));
      }
      x = tf.add(
        x,
        linearInOut(attention, weights.w2(`${p}.attn.c_proj.weight`), weights.w1(`${p}.attn.c_proj.bias`)),
      );
      const h2 = layerNorm(
        x,
        weights.w1(`${p}.ln_2.weight`),
        weights.w1(`${p}.ln_2.bias`),
        c.normEpsilon,
      ) as tf.Tensor2D;
      const inner = biasGelu(
        tf.matMul(h2, weights.w2(`${p}.mlp.c_fc.weight`)),
        weights.w1(`${p}.mlp.c_fc.bias`),
      );
      x = tf.add(
        x,
        linearInOut(
          inner as tf.Tensor2D,
          weights.w2(`${p}.mlp.c_proj.weight`),
          weights.w1(`${p}.mlp.c_proj.bias`),
        ),
      );
    }
    return layerNorm(
      x,
      weights.w1('transformer.ln_f.weight'),
      weights.w1('transformer.ln_f.bias'),
      c.normEpsilon,
    ) as tf.Tensor2D;
  }

  // Llama / Qwen2. Rotary tables once per call.
  const { cos, sin } = ropeTables(
    tf.cast(flatPositions, 'float32') as tf.Tensor1D,
    plan?.ropeFrequencies ?? tf.tensor1d(ropeFrequencies as Float32Array, 'float32'),
  );
  const cosK = tf.reshape(cos, [n, 1, hd]) as tf.Tensor3D;
  const sinK = tf.reshape(sin, [n, 1, hd]) as tf.Tensor3D;
  const swap = plan?.swap ?? halfSwapMatrix(hd);
  // Without a plan the query's 1/sqrt(hd) is folded into its own rotary tables.
  const cosQ = plan ? cosK : (tf.mul(cosK, scale) as tf.Tensor3D);
  const sinQ = plan ? sinK : (tf.mul(sinK, scale) as tf.Tensor3D);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const a = `${p}.self_attn`;
    const h = rmsNorm(x, weights.w1(`${p}.input_layernorm.weight`), c.normEpsilon) as tf.Tensor2D;
    let attention: tf.Tensor2D;
    if (plan) {
      // One projection, one RoPE over query and key heads together (the query is pre-scaled).
      const qkv = linearInOut(h, plan.qkvWeight[i] as tf.Tensor2D, plan.qkvBias[i]);
      const [qk, vFlat] = tf.split(qkv, [(heads + kvHeads) * hd, kvHeads * hd], 1);
      const rotated = applyRope(
        tf.reshape(qk as tf.Tensor, [n, heads + kvHeads, hd]) as tf.Tensor3D,
        cosK,
        sinK,
        swap,
      );
      if (decode) {
        attention = decodeAttend(
          i,
          tf.concat([tf.reshape(rotated, [n, (heads + kvHeads) * hd]), vFlat as tf.Tensor2D], 1),
        );
      } else {
        const [qr, kr] = tf.split(rotated, [heads, kvHeads], 1);
        const [k, v] = withPast(i, toHeads(kr as tf.Tensor, kvHeads), toHeads(vFlat as tf.Tensor, kvHeads));
        attention = fromHeads(attend(toHeads(qr as tf.Tensor, heads), k, v, bias as tf.Tensor4D));
      }
    } else {
      const qFlat = linearOutIn(h, weights.w2(`${a}.q_proj.weight`), weights.optionalW1(`${a}.q_proj.bias`));
      const kFlat = linearOutIn(h, weights.w2(`${a}.k_proj.weight`), weights.optionalW1(`${a}.k_proj.bias`));
      const vFlat = linearOutIn(h, weights.w2(`${a}.v_proj.weight`), weights.optionalW1(`${a}.v_proj.bias`));
      const q = toHeads(applyRope(tf.reshape(qFlat, [n, heads, hd]) as tf.Tensor3D, cosQ, sinQ, swap), heads);
      const [k, v] = withPast(
        i,
        toHeads(applyRope(tf.reshape(kFlat, [n, kvHeads, hd]) as tf.Tensor3D, cosK, sinK, swap), kvHeads),
        toHeads(vFlat, kvHeads),
      );
      attention = fromHeads(attend(q, k, v, bias as tf.Tensor4D));
    }
    // With a plan, the [out, in] weights come pre-transposed (when the model is small enough).
    const tw = plan?.transposed;
    const oBias = weights.optionalW1(`${a}.o_proj.bias`);
    x = tf.add(
      x,
      tw
        ? linearInOut(attention, tw.oProj[i] as tf.Tensor2D, oBias)
        : linearOutIn(attention, weights.w2(`${a}.o_proj.weight`), oBias),
    );
    const h2 = rmsNorm(x, weights.w1(`${p}.post_attention_layernorm.weight`), c.normEpsilon) as tf.Tensor2D;
    const gate = tw
      ? linearInOut(h2, tw.gate[i] as tf.Tensor2D)
      : linearOutIn(h2, weights.w2(`${p}.mlp.gate_proj.weight`));
    const up = tw
      ? linearInOut(h2, tw.up[i] as tf.Tensor2D)
      : linearOutIn(h2, weights.w2(`${p}.mlp.up_proj.weight`));
    const inner = siluMul(gate, up) as tf.Tensor2D;
    x = tf.add(
      x,
      tw
        ? linearInOut(inner, tw.down[i] as tf.Tensor2D)
        : linearOutIn(inner, weights.w2(`${p}.mlp.down_proj.weight`)),
    );
  }
  return rmsNorm(x, weights.w1('model.norm.weight'), c.normEpsilon) as tf.Tensor2D;
}
