import * as tf from '@tensorflow/tfjs-core';

/** mulberry32: a tiny seeded PRNG, so that every test input is the same on every run. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` floats uniform in [low, high) from `seed`. */
export function uniform(size: number, seed: number, low = -1, high = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: size }, () => low + (high - low) * next());
}

/** `size` integers uniform in [low, high) from `seed`. */
export function integers(size: number, seed: number, low: number, high: number): Int32Array {
  const next = mulberry32(seed);
  return Int32Array.from({ length: size }, () => low + Math.floor((high - low) * next()));
}

/** A float32 tensor of `shape` with values uniform in [-scale, scale) from `seed`. */
export function floats(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(uniform(tf.util.sizeFromShape(shape), seed, -scale, scale), shape, 'float32');
}
