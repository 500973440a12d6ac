import * as tf from '@tensorflow/tfjs-core';

/**
 * Value used to mask attention scores. Finite, so that a row with every key masked (a left-padding
 * query) gives a uniform distribution instead of NaN.
 */
export const MASKED = -1e9;

/**
 * Rows of `table` [V, d] for `ids` [N] (int32) -> [N, d], differentiable w.r.t. `table` on every backend.
 * tfjs's own gather gradient needs `UnsortedSegmentSum`, which the wasm backend lacks; this uses it where
 * registered and otherwise a one-hot matmul (`oneHot(ids)^T @ dy`).
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const vocab = table.shape[0];
  const lookup = tf.customGrad((...args: unknown[]) => {
    const [t, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([ids]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        rowGradient(dy as tf.Tensor2D, saved[0] as tf.Tensor1D, vocab),
    };
  });
  return lookup(table) as tf.Tensor2D;
}

function rowGradient(dy: tf.Tensor2D, ids: tf.Tensor1D, vocab: number): tf.Tensor2D {
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined) {
    return tf.unsortedSegmentSum(dy, ids, vocab);
  }
  return tf.tidy(() => tf.matMul(tf.oneHot(ids, vocab, 1, 0, 'float32'), dy, true, false));
}

/** `x @ w (+ bias)` with `w` in `[in, out]` layout (HF Conv1D). */
export function linearInOut(x: tf.Tensor2D, w: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return (bias ? tf.fused.matMul({ a: x, b: w, bias }) : tf.matMul(x, w)) as tf.Tensor2D;
}

/** `x @ w^T (+ bias)` with `w` in `[out, in]` layout (HF nn.Linear). */
export function linearOutIn(x: tf.Tensor2D, w: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return (
    bias ? tf.fused.matMul({ a: x, b: w, transposeB: true, bias }) : tf.matMul(x, w, false, true)
  ) as tf.Tensor2D;
}

/**
 * RoPE frequencies laid out for the sign trick in `applyRope`: `[-f_0 .. -f_{h/2-1}, f_0 .. f_{h/2-1}]`
 * with `f_i = 1 / theta^(2i / headDim)` computed in float32 as HF Llama does.
 */
export function ropeSignedFrequencies(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(headDim);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround((2 * i) / headDim);
    const freq = Math.fround(1 / Math.fround(theta ** exponent));
    out[i] = -freq;
    out[half + i] = freq;
  }
  return out;
}

/**
 * cos and signed sin of the rotary angles for `positions` [N] (float32), each [N, headDim], optionally
 * pre-multiplied by `scale` (the query's 1/sqrt(headDim) rides along for free).
 */
export function ropeTables(
  positions: tf.Tensor1D,
  signedFrequencies: tf.Tensor1D,
  scale = 1,
): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  return tf.tidy(() => {
    // HF computes positions * inv_freq in float32: one rounding, as here.
    const angles = tf.mul(tf.expandDims(positions, 1), tf.expandDims(signedFrequencies, 0)) as tf.Tensor2D;
    let cos = tf.cos(angles);
    let sin = tf.sin(angles);
    if (scale !== 1) {
      cos = tf.mul(cos, scale);
      sin = tf.mul(sin, scale);
    }
    return { cos, sin };
  });
}

/**
 * The [hd, hd] permutation that swaps the two halves of a vector: `x @ P = cat(x2, x1)`. A matmul is the
 * fastest way to do it on wasm (its Reverse and strided slices are slow), and its gradient is one too.
 */
export function halfSwapMatrix(headDim: number): tf.Tensor2D {
  const half = headDim / 2;
  const values = new Float32Array(headDim * headDim);
  for (let j = 0; j < headDim; j++) values[j * headDim + ((j + half) % headDim)] = 1;
  return tf.tensor2d(values, [headDim, headDim], 'float32');
}

/**
 * HF Llama rotary embedding, `x * cos + rotate_half(x) * sin` with `rotate_half(x) = cat(-x2, x1)`.
 * Since the frequencies' first half is negated, `sin` here is already `cat(-sin, sin)`, so
 * `rotate_half(x) * sin(angle) = swap_halves(x) * signed_sin`, and swapping halves is `x @ swap`.
 * `x` is [N, heads, headDim]; `cos`/`sin` are [N, 1, headDim]; `swap` from `halfSwapMatrix`.
 */
export function applyRope(
  x: tf.Tensor3D,
  cos: tf.Tensor3D,
  sin: tf.Tensor3D,
  swap: tf.Tensor2D,
): tf.Tensor3D {
  const [n, heads, headDim] = x.shape;
  const swapped = tf.reshape(tf.matMul(tf.reshape(x, [n * heads, headDim]), swap), [n, heads, headDim]);
  return tf.add(tf.mul(x, cos), tf.mul(swapped, sin));
}

/**
 * Scaled dot-product attention with grouped-query heads, no per-head loops.
 * q [B, H, T, hd] (already scaled), k/v [B, Hkv, S, hd], bias broadcastable to [B, 1, T, S]
 * (0 where allowed, MASKED elsewhere). Query heads `g*G .. g*G+G-1` share kv head `g` (HF `repeat_kv`),
 * done by viewing q as [B, Hkv, G*T, hd] instead of repeating k and v. Returns [B, H, T, hd].
 */
export function attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor4D {
  const [b, heads, t, hd] = q.shape;
  const kvHeads = k.shape[1];
  const s = k.shape[2];
  if (kvHeads === heads) {
    const probs = tf.softmax(tf.add(tf.matMul(q, k, false, true), bias));
    return tf.matMul(probs, v) as tf.Tensor4D;
  }
  const groups = heads / kvHeads;
  const scores = tf.reshape(tf.matMul(tf.reshape(q, [b, kvHeads, groups * t, hd]), k, false, true), [
    b,
    kvHeads,
    groups,
    t,
    s,
  ]);
  const biasShape = bias.shape;
  const bias5 = tf.reshape(bias, [biasShape[0], 1, 1, biasShape[2], biasShape[3]]);
  const probs = tf.reshape(tf.softmax(tf.add(scores, bias5)), [b, kvHeads, groups * t, s]);
  return tf.reshape(tf.matMul(probs, v), [b, heads, t, hd]) as tf.Tensor4D;
}

/**
 * Additive attention bias [B|1, 1, T, S] for T queries at key offsets `past .. past+T-1` of S = past + T
 * keys: causal, plus `keyMask` [B, S] (1 = real token, 0 = padding) when given.
 */
export function attentionBias(t: number, past: number, keyMask?: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const s = past + t;
    let causal: tf.Tensor4D | undefined;
    if (t > 1) {
      const values = new Float32Array(t * s);
      for (let i = 0; i < t; i++) values.fill(MASKED, i * s + past + i + 1, (i + 1) * s);
      causal = tf.tensor4d(values, [1, 1, t, s]);
    }
    if (keyMask === undefined) return causal ?? (tf.zeros([1, 1, t, s]) as tf.Tensor4D);
    const b = keyMask.shape[0];
    const paddingBias = tf.reshape(tf.mul(tf.sub(1, tf.cast(keyMask, 'float32')), MASKED), [
      b,
      1,
      1,
      s,
    ]) as tf.Tensor4D;
    return causal ? (tf.add(paddingBias, causal) as tf.Tensor4D) : paddingBias;
  });
}
