import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { KernelsError } from '../errors.ts';

/**
 * Worker threads that take a share of large pure-wasm matmuls (tfjs's wasm backend runs one thread in
 * Node). Each worker owns a tfjs wasm instance and runs the same XNNPACK kernel on its rows; tfjs kernels
 * are synchronous, so the main thread posts the workers' shares, computes its own, then blocks in
 * `Atomics.wait` until they are done and copies their rows back.
 */

/** A matmul worker failed, did not answer in time, or could not start. */
export class MatMulPoolError extends KernelsError {
  override name = 'MatMulPoolError';
}

/** Layout of a worker's control block (Int32 indices); the worker receives it in `workerData`. */
const LAYOUT = {
  REQUEST: 0,
  DONE: 1,
  STATUS: 2,
  GENERATION: 3,
  COUNT: 4,
  M: 5,
  K: 6,
  N: 7,
  HAS_BIAS: 8,
  CLAMP: 9,
  SHARED_A: 10,
  SHARED_B: 11,
  TRANSPOSED_A: 12,
  MESSAGE_AT: 256,
} as const;
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
} = LAYOUT;
const CONTROL_BYTES = 4096;

const READY_TIMEOUT_MS = 30_000;
/** A job may take at least this long before it counts as hung, more for large ones. */
const MIN_JOB_TIMEOUT_MS = 10_000;

/** One worker's share: `count` products of [m, k] x [k, n], operands written by `fill`. */
export interface MatMulJob {
  count: number;
  m: number;
  k: number;
  n: number;
  /** Every product uses the one [m, k] (resp. [k, n]) operand. */
  sharedA: boolean;
  sharedB: boolean;
  /** `a` is sent as stored, [k, m] per product, and the worker transposes it (in parallel with the main thread). */
  transposedA?: boolean;
  hasBias: boolean;
  /** tfjs-backend-wasm's FusableActivation code. */
  clamp: number;
}

/** Float offsets of a job's operands and result in the data buffer. */
export interface JobLayout {
  a: number;
  b: number;
  bias: number;
  out: number;
  end: number;
}

export function jobLayout(job: MatMulJob): JobLayout {
  const a = 0;
  const b = a + (job.sharedA ? 1 : job.count) * job.m * job.k;
  const bias = b + (job.sharedB ? 1 : job.count) * job.k * job.n;
  const out = bias + (job.hasBias ? job.n : 0);
  return { a, b, bias, out, end: out + job.count * job.m * job.n };
}

class MatMulWorker {
  data = new Float32Array(new SharedArrayBuffer(0));
  private generation = 0;
  private pending: { job: MatMulJob; timeoutMs: number } | undefined;
  exited: string | undefined;

  constructor(
    readonly worker: Worker,
    private readonly port: MessagePort,
    readonly control: Int32Array,
  ) {}

  /** A data buffer of at least `floats`, posted to the worker before the job that uses it. */
  reserve(floats: number): Float32Array {
    if (this.data.length < floats) {
      const size = Math.max(floats, Math.ceil(this.data.length * 1.5));
      this.data = new Float32Array(new SharedArrayBuffer(size * 4));
      this.generation++;
      this.port.postMessage({ generation: this.generation, buffer: this.data.buffer });
    }
    return this.data;
  }

  post(job: MatMulJob): void {
    const c = this.control;
    c[GENERATION] = this.generation;
    c[COUNT] = job.count;
    c[M] = job.m;
    c[K] = job.k;
    c[N] = job.n;
    c[HAS_BIAS] = job.hasBias ? 1 : 0;
    c[CLAMP] = job.clamp;
    c[SHARED_A] = job.sharedA ? 1 : 0;
    c[SHARED_B] = job.sharedB ? 1 : 0;
    c[TRANSPOSED_A] = job.transposedA === true ? 1 : 0;
    const flops = 2 * job.count * job.m * job.k * job.n;
    this.pending = { job, timeoutMs: Math.max(MIN_JOB_TIMEOUT_MS, flops / 1e5) };
    Atomics.add(c, REQUEST, 1);
    Atomics.notify(c, REQUEST);
  }

  /** Blocks until the posted job is done; throws `MatMulPoolError` if it failed or hung. */
  wait(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    const c = this.control;
    const request = Atomics.load(c, REQUEST);
    const deadline = performance.now() + pending.timeoutMs;
    while (Atomics.load(c, DONE) !== request) {
      const left = deadline - performance.now();
      if (this.exited !== undefined) throw new MatMulPoolError(`a matmul worker exited: ${this.exited}`);
      if (left <= 0) {
        throw new MatMulPoolError(
          `a matmul worker did not finish a ${pending.job.count}x[${pending.job.m}, ${pending.job.k}] x ` +
            `[${pending.job.k}, ${pending.job.n}] product within ${Math.round(pending.timeoutMs)} ms`,
        );
      }
      Atomics.wait(c, DONE, Atomics.load(c, DONE), Math.min(left, 1000));
    }
    if (Atomics.load(c, STATUS) !== 0) {
      const length = c[MESSAGE_AT - 1] ?? 0;
      const text = new TextDecoder().decode(new Uint8Array(c.buffer, MESSAGE_AT * 4, length).slice());
      throw new MatMulPoolError(`a matmul worker failed: ${text}`);
    }
  }
}

export interface MatMulPool {
  workers: MatMulWorker[];
  /** Threads taking part in a split matmul: the workers and the main thread. */
  threads: number;
}

let pool: MatMulPool | undefined;
let broken = false;
/** The split thresholds, measured on the benchmark GPT (2 cores): see `matMulPoolFor`. */
export const MATMUL_POOL_DEFAULTS = { minFlops: 2 ** 23, minIntensity: 64 };
let { minFlops, minIntensity } = MATMUL_POOL_DEFAULTS;
let jobs = 0;

/**
 * The running pool when it may take a matmul of `flops` (2 M N K per batch) whose operands and result
 * hold `floats`, else undefined. Small products, and ones with few flops per float copied (a few rows
 * against a large weight: sampling), run faster on the main thread alone than copied to a worker.
 */
export function matMulPoolFor(flops: number, floats = 0): MatMulPool | undefined {
  if (pool === undefined || broken || flops < minFlops || flops < minIntensity * floats) return undefined;
  return pool;
}

/** For tests and tuning: the split thresholds (see `matMulPoolFor`). */
export function configureMatMulPool(options: { minFlops?: number; minIntensity?: number }): void {
  if (options.minFlops !== undefined) minFlops = options.minFlops;
  if (options.minIntensity !== undefined) minIntensity = options.minIntensity;
}

/** The pool's threads, the jobs its workers ran so far, and whether a worker failure stopped it. */
export function matMulPoolStats(): { threads: number; jobs: number; broken: boolean } {
  return { threads: pool?.threads ?? 1, jobs, broken };
}

/** The worker script: next to this module in src, and `dist/matmul-worker.mjs` after the build. */
function workerUrl(): URL {
  const candidates = [
    new URL('./matmul-worker.mjs', import.meta.url),
    new URL('./wasm/matmul-worker.mjs', import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) {
    throw new MatMulPoolError(`the matmul worker script is missing (looked for ${candidates.join(', ')})`);
  }
  return found;
}

/** Starts `threads - 1` workers (none for 1), replacing a pool of another size; resolves when ready. */
export async function startMatMulPool(threads: number): Promise<void> {
  if (pool !== undefined && pool.threads === threads && !broken) return;
  await stopMatMulPool();
  if (threads <= 1) return;
  const url = workerUrl();
  const workers = await Promise.all(Array.from({ length: threads - 1 }, () => startWorker(url)));
  pool = { workers, threads };
  broken = false;
}

/** Terminates the workers, if any. */
export async function stopMatMulPool(): Promise<void> {
  const current = pool;
  pool = undefined;
  broken = false;
  if (current !== undefined) await Promise.all(current.workers.map((w) => w.worker.terminate()));
}

async function startWorker(url: URL): Promise<MatMulWorker> {
  const channel = new MessageChannel();
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const worker = new Worker(url, {
    workerData: { control, port: channel.port2, layout: LAYOUT },
    transferList: [channel.port2],
    // Runs plain JavaScript: drop loaders (tsx) and conditions the parent was started with.
    execArgv: [],
  });
  const handle = new MatMulWorker(worker, channel.port1, new Int32Array(control));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new MatMulPoolError(`a matmul worker did not start within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      worker.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.once('error', (error) => {
        clearTimeout(timer);
        reject(new MatMulPoolError(`a matmul worker failed to start: ${error.message}`));
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new MatMulPoolError(`a matmul worker exited with code ${code} while starting`));
      });
    });
  } catch (error) {
    await worker.terminate();
    channel.port1.close();
    throw error;
  }
  worker.on('error', (error) => {
    handle.exited = error.message;
  });
  worker.on('exit', (code) => {
    handle.exited ??= `exit code ${code}`;
  });
  worker.unref();
  channel.port1.unref();
  return handle;
}

/** One worker's share of a split matmul. */
export interface Share {
  job: MatMulJob;
  /** Writes the share's operands into `data` at `layout`. */
  fill(data: Float32Array, layout: JobLayout): void;
}

/**
 * Splits `units` (output rows or batch slices) across the pool: workers get `share(start, end)` for the
 * last ranges, posted before the main thread runs `main(end)` on units [0, end); then each worker's result
 * goes to `collect`. A worker failure throws `MatMulPoolError` and leaves later matmuls on one thread.
 */
export function splitAcross(
  current: MatMulPool,
  units: number,
  share: (start: number, end: number) => Share,
  main: (end: number) => void,
  collect: (start: number, end: number, data: Float32Array, layout: JobLayout) => void,
): void {
  const bounds: number[] = [];
  for (let part = 0; part <= current.threads; part++) {
    bounds.push(Math.round((units * part) / current.threads));
  }
  const posted: { worker: MatMulWorker; start: number; end: number; layout: JobLayout }[] = [];
  try {
    for (const [index, worker] of current.workers.entries()) {
      const start = bounds[index + 1] ?? units;
      const end = bounds[index + 2] ?? units;
      if (end <= start) continue;
      const { job, fill } = share(start, end);
      const layout = jobLayout(job);
      fill(worker.reserve(layout.end), layout);
      worker.post(job);
      jobs++;
      posted.push({ worker, start, end, layout });
    }
  } catch (error) {
    broken = true;
    throw error;
  }
  let failure: unknown;
  try {
    main(bounds[1] ?? units);
  } catch (error) {
    failure = error;
  }
  for (const { worker } of posted) {
    try {
      worker.wait();
    } catch (error) {
      broken = true;
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  for (const { worker, start, end, layout } of posted) collect(start, end, worker.data, layout);
}
