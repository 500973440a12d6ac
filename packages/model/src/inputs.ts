import * as tf from '@tensorflow/tfjs-core';
import { ModelInputError } from './errors.ts';

/** Token ids [B, T]: an int32 tensor (float tensors are cast) or nested arrays. */
export type TokenInput = tf.Tensor2D | number[][];

/** A [B, T] tensor or nested arrays: masks (1 = real token, 0 = padding) and position ids. */
export type MatrixInput = tf.Tensor2D | number[][];

/**
 * [B, T-1] weights of next-token predictions under an attention mask [B, T]: 1 where both the position
 * and its target are real tokens (`mask[:, :-1] * mask[:, 1:]`).
 */
export function pairMask(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t] = mask.shape;
    const m = tf.cast(mask, 'float32');
    return tf.mul(tf.slice(m, [0, 0], [b, t - 1]), tf.slice(m, [0, 1], [b, t - 1])) as tf.Tensor2D;
  });
}

export function toIdTensor(tokens: TokenInput, vocabSize: number): tf.Tensor2D {
  if (tokens instanceof tf.Tensor) {
    if (tokens.rank !== 2)
      throw new ModelInputError('tokens', `expected a [B, T] tensor, got rank ${tokens.rank}`);
    return tokens.dtype === 'int32' ? tokens : (tf.cast(tokens, 'int32') as tf.Tensor2D);
  }
  const rows = checkRows(tokens, 'tokens');
  for (const row of rows) {
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new ModelInputError('tokens', `token id ${id} is outside [0, vocabSize=${vocabSize})`);
      }
    }
  }
  return tf.tensor2d(rows.flat(), [rows.length, rows[0]?.length ?? 0], 'int32');
}

export function toMatrix(input: MatrixInput, field: string, dtype: 'float32' | 'int32'): tf.Tensor2D {
  if (input instanceof tf.Tensor) {
    if (input.rank !== 2)
      throw new ModelInputError(field, `expected a [B, T] tensor, got rank ${input.rank}`);
    return input.dtype === dtype ? input : (tf.cast(input, dtype) as tf.Tensor2D);
  }
  const rows = checkRows(input, field);
  return tf.tensor2d(rows.flat(), [rows.length, rows[0]?.length ?? 0], dtype);
}

function checkRows(rows: number[][], field: string): number[][] {
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every(Array.isArray)) {
    throw new ModelInputError(field, 'expected a non-empty array of rows');
  }
  const width = (rows[0] as number[]).length;
  if (rows.some((row) => row.length !== width)) {
    throw new ModelInputError(
      field,
      'rows must all have the same length (pad them and pass an attention mask)',
    );
  }
  return rows;
}
