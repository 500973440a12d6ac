// A matmul worker of the pure-wasm matmul pool (matmul-pool.ts). Plain JavaScript so that Node runs it
// as is, from src under tsx/vitest and from dist after the build: workers cannot load .ts without a loader.
//
// It owns a tfjs wasm backend of its own and runs the stock XNNPACK `_FusedMatMul` on untransposed
// [M, K] x [K, N] slices. Operands and results travel through a SharedArrayBuffer; the main thread posts
// a job by bumping REQUEST and blocks in Atomics.wait until DONE matches. The control block's layout comes
// from matmul-pool.ts in workerData, so the two sides cannot disagree.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

const { control: controlBuffer, port, layout } = workerData;
const {
  REQUEST,
  DONE,
  STATUS,
  GENERATION,
  COUNT,
  M,
  K,
  N,
  HAS_BIAS,
  CLAMP,
  SHARED_A,
  SHARED_B,
  TRANSPOSED_A,
  MESSAGE_AT,
} = layout;
const control = new Int32Array(controlBuffer);
let data = new Float32Array(0);
let generation = -1;

if (!(await tf.setBackend('wasm'))) throw new Error('the worker could not start the tfjs wasm backend');
const backend = tf.backend();
const fusedMatMul = backend.wasm.cwrap('_FusedMatMul', null, [
  'number',
  'array',
  'number',
  'number',
  'array',
  'number',
  'number',
  'number',
  'number',
  'number',
  'number',
  'number',
  'number',
]);

function shapeBytes(rows, cols) {
  return new Uint8Array(new Int32Array([1, rows, cols]).buffer);
}

/** The data buffer of generation `wanted`, posted by the main thread before the job that needs it. */
function adoptBuffer(wanted) {
  while (generation !== wanted) {
    const message = receiveMessageOnPort(port);
    if (message === undefined) throw new Error(`matmul data buffer ${wanted} was never posted`);
    generation = message.message.generation;
    data = new Float32Array(message.message.buffer);
  }
}

function run() {
  adoptBuffer(Atomics.load(control, GENERATION));
  const count = control[COUNT];
  const m = control[M];
  const k = control[K];
  const n = control[N];
  const hasBias = control[HAS_BIAS] === 1;
  const clamp = control[CLAMP];
  const aCount = control[SHARED_A] === 1 ? 1 : count;
  const bCount = control[SHARED_B] === 1 ? 1 : count;
  const aSize = aCount * m * k;
  const bSize = bCount * k * n;
  const biasSize = hasBias ? n : 0;
  const outSize = count * m * n;
  const outAt = aSize + bSize + biasSize;

  const owned = [];
  const aliases = [];
  const heapTensor = (from, size, transposedCount = 0) => {
    const tensor = backend.makeOutput([size], 'float32');
    owned.push(tensor);
    if (transposedCount > 0) transposeInto(data, from, heapView(tensor, size), transposedCount, k, m);
    else if (from >= 0) heapView(tensor, size).set(data.subarray(from, from + size));
    return tensor;
  };
  const heapView = (tensor, size) =>
    new Float32Array(backend.wasm.HEAPU8.buffer, backend.dataIdMap.get(tensor.dataId).memoryOffset, size);
  const idOf = (tensor) => backend.dataIdMap.get(tensor.dataId).id;
  const slice = (tensor, index, size) => {
    if (index === 0 && size === tensor.shape[0]) return idOf(tensor);
    const offset = backend.dataIdMap.get(tensor.dataId).memoryOffset + 4 * index * size;
    const alias = backend.makeOutput([size], 'float32', offset);
    aliases.push(alias);
    return idOf(alias);
  };
  try {
    const a = heapTensor(0, aSize, control[TRANSPOSED_A] === 1 ? aCount : 0);
    const b = heapTensor(aSize, bSize);
    const bias = hasBias ? heapTensor(aSize + bSize, n) : undefined;
    const out = heapTensor(-1, outSize);
    const biasId = bias === undefined ? 0 : idOf(bias);
    const aShape = shapeBytes(m, k);
    const bShape = shapeBytes(k, n);
    for (let index = 0; index < count; index++) {
      const aId = slice(a, aCount === 1 ? 0 : index, m * k);
      const bId = slice(b, bCount === 1 ? 0 : index, k * n);
      fusedMatMul(aId, aShape, 3, bId, bShape, 3, 0, 0, clamp, biasId, 0, 0, slice(out, index, m * n));
    }
    data.set(heapView(out, outSize), outAt);
  } finally {
    for (const alias of aliases) {
      backend.wasm.tfjs.disposeData(backend.dataIdMap.get(alias.dataId).id);
      backend.dataIdMap.delete(alias.dataId);
    }
    for (const tensor of owned) backend.disposeData(tensor.dataId, true);
  }
}

/** `transposeInto` of matmul.ts: `count` [rows, cols] matrices of `source` from `from`, transposed. */
function transposeInto(source, from, target, count, rows, cols) {
  const size = rows * cols;
  const fullRows = rows - (rows % 4);
  for (let batch = 0; batch < count; batch++) {
    const base = batch * size;
    for (let c0 = 0; c0 < cols; c0 += 64) {
      const c1 = Math.min(c0 + 64, cols);
      for (let r = 0; r < fullRows; r += 4) {
        let at = from + base + r * cols + c0;
        let to = base + c0 * rows + r;
        for (let c = c0; c < c1; c++) {
          target[to] = source[at];
          target[to + 1] = source[at + cols];
          target[to + 2] = source[at + 2 * cols];
          target[to + 3] = source[at + 3 * cols];
          at++;
          to += rows;
        }
      }
      for (let r = fullRows; r < rows; r++) {
        for (let c = c0; c < c1; c++) target[base + c * rows + r] = source[from + base + r * cols + c];
      }
    }
  }
}

function report(error) {
  const text = new TextEncoder().encode(String(error?.stack ?? error));
  const room = new Uint8Array(controlBuffer, MESSAGE_AT * 4);
  const length = Math.min(text.length, room.length - 4);
  control[MESSAGE_AT - 1] = length;
  room.set(text.subarray(0, length));
}

// Read before saying ready: the first job may be posted as soon as the main thread hears it.
let seen = Atomics.load(control, REQUEST);
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(control, REQUEST, seen);
  seen = Atomics.load(control, REQUEST);
  let status = 0;
  try {
    run();
  } catch (error) {
    status = 1;
    report(error);
  }
  Atomics.store(control, STATUS, status);
  Atomics.store(control, DONE, seen);
  Atomics.notify(control, DONE);
}
