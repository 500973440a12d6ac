/**
 * Where a training step or a sampling call of the benchmark model spends its time, per tfjs kernel
 * (tf.profile; a kernel's time includes kernels nested in it, so scopes count twice).
 *
 *   pnpm --filter @linewise/model profile train          # wasm with the native BLAS when built
 *   pnpm --filter @linewise/model profile sample wasm    # pure wasm
 */
import { Adam, initBackend } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { gpt2Config, Rng, TransformerModel, trainStep } from '../src/index.ts';
import { BENCH_MODEL } from './settings.ts';

const mode = process.argv[2] === 'sample' ? 'sample' : 'train';
const info = await initBackend({ backend: 'wasm', native: process.argv[3] !== 'wasm' });
const model = TransformerModel.create(
  gpt2Config({
    vocabSize: BENCH_MODEL.vocab,
    hiddenSize: BENCH_MODEL.d,
    numLayers: BENCH_MODEL.layers,
    numHeads: BENCH_MODEL.heads,
    maxPositions: BENCH_MODEL.ctx,
  }),
  { seed: 0 },
);
const rng = new Rng(0);
const randomTokens = (rows: number, cols: number) =>
  Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => Math.floor(rng.next() * BENCH_MODEL.vocab)),
  );
const adam = new Adam({ learningRate: 1e-3 });
const tokens = tf.tensor2d(randomTokens(BENCH_MODEL.batch, BENCH_MODEL.ctx), undefined, 'int32');
const prompts = randomTokens(BENCH_MODEL.sampleBatch, BENCH_MODEL.prompt);
const run =
  mode === 'train'
    ? async () => void trainStep(model, adam, { tokens })
    : async () =>
        void (await model.generate({
          prompts,
          maxNewTokens: BENCH_MODEL.newTokens,
          temperature: 1,
          seed: 1,
        }));

for (let i = 0; i < BENCH_MODEL.warmup; i++) await run();
const started = performance.now();
const profile = await tf.profile(run);
const wallMs = performance.now() - started;
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of profile.kernels) {
  const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  entry.ms += k.kernelTimeMs as number;
  entry.calls++;
  byKernel.set(k.name, entry);
}
console.log(
  `${mode} on ${info.backend} [${info.accelerations.join(', ')}]: ${wallMs.toFixed(0)} ms wall, ${profile.kernels.length} kernel calls`,
);
console.log(`${'kernel'.padEnd(32)} ${'ms'.padStart(9)} ${'calls'.padStart(7)}`);
for (const [name, { ms, calls }] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
  console.log(`${name.padEnd(32)} ${ms.toFixed(1).padStart(9)} ${String(calls).padStart(7)}`);
}
