/**
 * Measures linewise on the benchmark model in a process of its own, so that no row's heap, JIT state
 * or BLAS threads affect another. Prints one JSON line.
 *
 *   tsx --conditions=@linewise/source bench/measure.ts <train|sample> <native|wasm> <steps>
 */
import { Adam, initBackend } from '@linewise/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { gpt2Config, Rng, TransformerModel, trainStep } from '../src/index.ts';
import { BENCH_MODEL } from './settings.ts';

const [mode, accelerator, stepsArg] = process.argv.slice(2) as [
  'train' | 'sample',
  'native' | 'wasm',
  string,
];
const steps = Number(stepsArg);
const info = await initBackend({ backend: 'wasm', native: accelerator === 'native' });
if (accelerator === 'native' && !info.accelerations.some((a) => a.startsWith('native-blas'))) {
  console.log(JSON.stringify({ mode, accelerator, unavailable: 'the native BLAS addon is not built' }));
  process.exit(0);
}
const config = gpt2Config({
  vocabSize: BENCH_MODEL.vocab,
  hiddenSize: BENCH_MODEL.d,
  numLayers: BENCH_MODEL.layers,
  numHeads: BENCH_MODEL.heads,
  maxPositions: BENCH_MODEL.ctx,
});
const model = TransformerModel.create(config, { seed: 0 });
const rng = new Rng(0);
const randomTokens = (rows: number, cols: number) =>
  Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => Math.floor(rng.next() * BENCH_MODEL.vocab)),
  );

let tokensPerRun: number;
let run: () => Promise<number | undefined>;
if (mode === 'train') {
  const adam = new Adam({ learningRate: 1e-3 });
  const tokens = tf.tensor2d(randomTokens(BENCH_MODEL.batch, BENCH_MODEL.ctx), undefined, 'int32');
  tokensPerRun = BENCH_MODEL.batch * BENCH_MODEL.ctx;
  run = async () => trainStep(model, adam, { tokens }).loss;
} else {
  const prompts = randomTokens(BENCH_MODEL.sampleBatch, BENCH_MODEL.prompt);
  tokensPerRun = BENCH_MODEL.sampleBatch * BENCH_MODEL.newTokens;
  let seed = 0;
  run = async () => {
    const results = await model.generate({
      prompts,
      maxNewTokens: BENCH_MODEL.newTokens,
      temperature: 1,
      seed: seed++,
    });
    const produced = results.reduce((n, r) => n + r.tokens.length, 0);
    if (produced !== tokensPerRun)
      throw new Error(`sampling produced ${produced} tokens, expected ${tokensPerRun}`);
    return undefined;
  };
}

for (let i = 0; i < BENCH_MODEL.warmup; i++) await run();
const tensorsBefore = tf.memory().numTensors;
const started = performance.now();
let loss: number | undefined;
for (let i = 0; i < steps; i++) loss = await run();
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    mode,
    accelerator,
    accelerations: info.accelerations,
    threads: info.threads,
    parameters: model.numParameters(),
    tokensPerSecond: (steps * tokensPerRun) / seconds,
    seconds,
    loss,
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  }),
);
