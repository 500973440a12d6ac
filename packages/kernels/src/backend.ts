import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, KernelsConfigError } from './errors.ts';
import { disableNativeBlas, loadNativeBlas } from './native.ts';
import { registerKernels } from './register.ts';
import { startMatMulPool, stopMatMulPool } from './wasm/matmul-pool.ts';

export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

export interface InitBackendOptions {
  /** `auto` (default): an installed tfjs-node(-gpu), else wasm. `cpu` is the slow reference backend. */
  backend?: BackendChoice;
  /**
   * Threads for the matmuls (default: all cores). With the native BLAS, its threads; on pure wasm (which
   * itself runs one thread in Node), the main thread plus `threads - 1` matmul workers, default at most 4.
   */
  threads?: number;
  /** Use the native BLAS accelerator when it was built (default true). */
  native?: boolean;
}

export interface BackendInfo {
  /** The tfjs backend now active. */
  backend: 'wasm' | 'cpu' | 'tensorflow';
  /** For `tensorflow`: the package that provided it. */
  binding?: TensorflowBinding;
  /** What speeds this backend up beyond stock tfjs, e.g. `xnnpack-batch-matmul`, `native-blas:openblas`. */
  accelerations: string[];
  /** Threads used by the matmul path: the native BLAS's, or the pure-wasm matmul pool's (1 = main only). */
  threads: number;
}

type TensorflowBinding = '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node';
interface BackendFactoryEntry {
  factory: () => tf.KernelBackend | Promise<tf.KernelBackend>;
  priority: number;
}

const TENSORFLOW_BINDINGS: TensorflowBinding[] = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Pure-wasm matmul threads by default: each worker holds a wasm heap as large as its operands. */
const MAX_DEFAULT_WASM_THREADS = 4;

let gradientsRegistered = false;
/** Backends initialised after linewise kernels were registered for them. */
const activated = new Set<string>();

/**
 * Selects and initialises a tfjs backend, registers linewise kernels for it, and says what is active.
 * Calling it again switches backends; tensors made on the previous backend stay readable.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const choice = options.backend ?? 'auto';
  if (!['auto', 'wasm', 'cpu', 'tensorflow'].includes(choice)) {
    throw new KernelsConfigError(
      'backend',
      `unknown backend '${String(choice)}' (auto, wasm, cpu, tensorflow)`,
    );
  }
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new KernelsConfigError('threads', `threads must be a positive integer, got ${options.threads}`);
  }
  await registerGradients();

  if (choice === 'tensorflow' || choice === 'auto') {
    const binding = await importTensorflowBinding();
    if (binding !== undefined) {
      await stopMatMulPool();
      await activate('tensorflow');
      return { backend: 'tensorflow', binding, accelerations: registerKernels('tensorflow'), threads: 1 };
    }
    if (choice === 'tensorflow') {
      throw new BackendUnavailableError(
        'tensorflow',
        'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed; install one yourself ' +
          '(`npm i @tensorflow/tfjs-node-gpu@4.22.0` on a CUDA host) or use backend "wasm"',
      );
    }
  }
  if (choice === 'cpu') {
    await stopMatMulPool();
    await import('@tensorflow/tfjs-backend-cpu');
    const accelerations = registerKernels('cpu');
    await activate('cpu');
    return { backend: 'cpu', accelerations, threads: 1 };
  }
  await import('@tensorflow/tfjs-backend-wasm');
  const accelerations = registerKernels('wasm');
  let threads = 1;
  const native = options.native === false ? undefined : loadNativeBlas(options.threads);
  if (native !== undefined) {
    accelerations.push(`native-blas:${native.library}`);
    threads = native.threads;
    await stopMatMulPool();
  } else {
    if (options.native === false) disableNativeBlas();
    threads = options.threads ?? Math.min(availableParallelism(), MAX_DEFAULT_WASM_THREADS);
    await startMatMulPool(threads);
    if (threads > 1) accelerations.push(`wasm-matmul-threads:${threads}`);
  }
  await activate('wasm');
  return { backend: 'wasm', accelerations, threads };
}

/** tfjs-core registers no gradients by itself; the `@tensorflow/tfjs` bundle registers them on import. */
async function registerGradients(): Promise<void> {
  if (gradientsRegistered) return;
  await import('@tensorflow/tfjs');
  gradientsRegistered = true;
}

async function activate(name: string): Promise<void> {
  // Kernel setup functions run when a backend initialises, so a backend initialised before our kernels
  // were registered is re-initialised once (its tensors are lost; nothing of ours holds any yet).
  if (!activated.has(name)) {
    // Read the factory without `findBackend`, which would start initialising the backend.
    const entry = (tf.engine() as unknown as { registryFactory: Record<string, BackendFactoryEntry> })
      .registryFactory[name];
    if (entry === undefined) throw new BackendUnavailableError(name, `backend '${name}' did not register`);
    tf.removeBackend(name);
    tf.registerBackend(name, entry.factory, entry.priority);
    activated.add(name);
  }
  if (!(await tf.setBackend(name))) {
    throw new BackendUnavailableError(name, `backend '${name}' failed to initialise`);
  }
}

/** The tfjs-node bindings are never dependencies: load one only if the user installed it. */
async function importTensorflowBinding(): Promise<TensorflowBinding | undefined> {
  for (const binding of TENSORFLOW_BINDINGS) {
    try {
      // A variable specifier keeps bundlers and TypeScript from resolving the optional package.
      const specifier: string = binding;
      await import(specifier);
      return binding;
    } catch (error) {
      if (!isModuleNotFound(error, binding)) throw error;
    }
  }
  return undefined;
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as { code?: string }).code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(specifier)
  );
}
