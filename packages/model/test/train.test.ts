import { Adam } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  gpt2Config,
  llamaConfig,
  type ModelConfig,
  ModelStateError,
  nextTokenLoss,
  Rng,
  type TrainBatch,
  TransformerModel,
  trainStep,
} from '../src/index.ts';
import { maxAbsDiff, randomTokens, TINY, useBackend } from './helpers.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

const owned: { dispose(): void }[] = [];
afterAll(() => {
  for (const o of owned) o.dispose();
});

function snapshot(model: TransformerModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of model.variables()) out.set(name, (v.dataSync() as Float32Array).slice());
  return out;
}

function changed(a: Map<string, Float32Array>, b: Map<string, Float32Array>): string[] {
  return [...a.keys()].filter(
    (name) => maxAbsDiff(a.get(name) as Float32Array, b.get(name) as Float32Array) > 0,
  );
}

describe('model state', () => {
  test('clone is deep: training the clone leaves the original unchanged, and vice versa', () => {
    const model = TransformerModel.create(TINY.llama as ModelConfig, { seed: 1, scalarHead: true });
    owned.push(model);
    const before = snapshot(model);
    const copy = model.clone();
    owned.push(copy);
    expect(copy.hasScalarHead).toBe(true);
    expect(changed(before, snapshot(copy))).toEqual([]);
    const optimizer = new Adam({ learningRate: 1e-2 });
    owned.push(optimizer);
    const batch = { tokens: randomTokens(2, 8, 61, 1) };
    trainStep(copy, optimizer, batch);
    expect(changed(before, snapshot(model))).toEqual([]);
    // Every backbone weight of the clone moved (the scalar head gets no LM gradient and stays).
    const moved = changed(before, snapshot(copy));
    expect(moved).toHaveLength(model.variables().size - 2);
    expect(moved).not.toContain('score.weight');
    // Disposing the clone leaves the original usable.
    const lp = model.logProbs(batch.tokens);
    copy.dispose();
    expect(copy.isDisposed).toBe(true);
    expect(() => copy.logProbs(batch.tokens)).toThrow(ModelStateError);
    const lp2 = model.logProbs(batch.tokens);
    expect(maxAbsDiff(lp.dataSync(), lp2.dataSync())).toBe(0);
    tf.dispose([lp, lp2]);
  });

  test('freeze excludes variables from training; unfreeze brings them back', () => {
    const model = TransformerModel.create(TINY.gpt2 as ModelConfig, { seed: 2, scalarHead: true });
    owned.push(model);
    const total = model.variables().size;
    model.freeze();
    expect(model.trainableVariables()).toHaveLength(0);
    expect(() => trainStep(model, new Adam({ learningRate: 1e-2 }), { tokens: [[1, 2, 3]] })).toThrow();
    // Train only the last block and the final norm.
    model.unfreeze((name) => name.startsWith('transformer.h.1.') || name.startsWith('transformer.ln_f.'));
    const trainable = model.trainableVariables().length;
    expect(trainable).toBe(12 + 2);
    expect(model.numParameters({ trainableOnly: true })).toBeLessThan(model.numParameters());
    const before = snapshot(model);
    const optimizer = new Adam({ learningRate: 1e-2 });
    owned.push(optimizer);
    trainStep(model, optimizer, { tokens: randomTokens(2, 6, 61, 2) });
    const moved = changed(before, snapshot(model));
    expect(moved.length).toBe(trainable);
    expect(moved.every((n) => n.startsWith('transformer.h.1.') || n.startsWith('transformer.ln_f.'))).toBe(
      true,
    );
    model.unfreeze();
    expect(model.trainableVariables()).toHaveLength(total);
  });
});

describe('training', () => {
  /**
   * Arithmetic sequences over a 16-token vocabulary: a random start, a random stride in {1, 2, 3},
   * 16 tokens (x_t = start + t * stride mod 16). Once two tokens are seen the rest is determined, so the
   * loss can fall from ln 16 = 2.77 to ln(3)/15 = 0.07 (only the second token is uncertain). A tiny model
   * (2 layers, d=64) with Adam at 3e-3 reaches a mean loss below 0.3 over 5 steps in about 30 (llama)
   * to 120 (gpt2) steps of batch 16; the test allows 400.
   */
  const THRESHOLD = 0.3;
  for (const arch of ['gpt2', 'llama'] as const) {
    test(`${arch}: a toy sequence task is learned (loss from ~2.77 to < ${THRESHOLD}); tensor count steady`, () => {
      const vocab = 16;
      const base = {
        vocabSize: vocab,
        hiddenSize: 64,
        numLayers: 2,
        numHeads: 4,
        maxPositions: 32,
        intermediateSize: 128,
      };
      const config = arch === 'gpt2' ? gpt2Config(base) : llamaConfig({ ...base, numKvHeads: 2 });
      const model = TransformerModel.create(config, { seed: 1 });
      owned.push(model);
      const optimizer = new Adam({ learningRate: 3e-3 });
      owned.push(optimizer);
      const rng = new Rng(5);
      const batch = () => ({
        tokens: Array.from({ length: 16 }, () => {
          const start = Math.floor(rng.next() * vocab);
          const stride = 1 + Math.floor(rng.next() * 3);
          return Array.from({ length: 16 }, (_, t) => (start + t * stride) % vocab);
        }),
      });
      const losses: number[] = [];
      let tensorsAfterFirst = 0;
      for (let step = 0; step < 400; step++) {
        const { loss, gradNorm } = trainStep(model, optimizer, batch(), { maxGradNorm: 1 });
        expect(gradNorm).toBeGreaterThan(0);
        if (step === 0)
          tensorsAfterFirst = tf.memory().numTensors; // the optimizer's moments now exist
        else expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
        losses.push(loss);
        if (losses.length >= 5 && losses.slice(-5).reduce((a, b) => a + b, 0) / 5 < THRESHOLD) break;
      }
      expect(losses[0]).toBeGreaterThan(2.4);
      expect(losses.slice(-5).reduce((a, b) => a + b, 0) / 5).toBeLessThan(THRESHOLD);
      // The trained model continues a sequence greedily.
      return model
        .generate({ prompts: [[3, 5, 7]], maxNewTokens: 5, temperature: 0, eosTokenIds: [] })
        .then(([result]) => {
          expect(result?.tokens).toEqual([9, 11, 13, 15, 1]);
        });
    });
  }

  test('padding and loss masks: a padded batch gives the loss and gradients of the unpadded one', () => {
    const config = TINY.qwen2 as ModelConfig;
    const model = TransformerModel.create(config, { seed: 3 });
    owned.push(model);
    const seq = randomTokens(1, 6, config.vocabSize, 3)[0] as number[];
    const vars = model.trainableVariables();
    const run = (batch: TrainBatch) => {
      let count = 0;
      const { value, grads } = tf.variableGrads(() => {
        const out = nextTokenLoss(model, batch);
        count = out.count;
        return out.loss;
      }, vars);
      const result = {
        loss: value.dataSync()[0] as number,
        count,
        grads: vars.map((v) => grads[v.name]?.dataSync() as Float32Array),
      };
      tf.dispose([value, ...(Object.values(grads) as tf.Tensor[])]);
      return result;
    };
    // Only predictions of tokens 3..5 count.
    const plain = run({ tokens: [seq], lossMask: [[0, 0, 0, 1, 1, 1]] });
    const padded = run({
      tokens: [
        [9, 9, ...seq],
        [...seq, 9, 9],
      ],
      mask: [
        [0, 0, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 0, 0],
      ],
      lossMask: [
        [1, 1, 0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 1, 1],
      ],
    });
    expect(plain.count).toBe(3);
    expect(padded.count).toBe(6);
    expect(padded.loss).toBeCloseTo(plain.loss, 5);
    plain.grads.forEach((g, i) => {
      expect(maxAbsDiff(g, padded.grads[i] as Float32Array), vars[i]?.name).toBeLessThan(1e-6);
    });
  });
});
