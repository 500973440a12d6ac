import {
  type DataId,
  type DataType,
  getKernel,
  type KernelBackend,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';

/** One entry of the wasm backend's `dataIdMap` (tfjs-backend-wasm 4.22.0, `backend_wasm.js`). */
export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` that linewise kernels use. Declared here rather than
 * imported because its published types pull in Emscripten's global types.
 */
export interface WasmBackend {
  wasm: {
    HEAPU8: Uint8Array;
    cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: unknown[]) => unknown;
    tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void;
      disposeData(id: number): void;
    };
  };
  dataIdMap: {
    has(dataId: DataId): boolean;
    get(dataId: DataId): WasmTensorData;
    delete(dataId: DataId): boolean;
  };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** The wasm backend behind a kernel's `backend` argument. */
export function asWasm(backend: KernelBackend | object): WasmBackend {
  return backend as unknown as WasmBackend;
}

/**
 * The backend's record of `tensor`. Like stock kernels, a tensor made on another backend is moved here
 * first (DataStorage.get does that); an id no backend knows throws.
 */
export function tensorData(backend: WasmBackend, tensor: TensorInfo): WasmTensorData {
  const data = backend.dataIdMap.get(tensor.dataId) as WasmTensorData | undefined;
  if (data === undefined) {
    throw new Error(`the wasm backend holds no data for a tensor of shape [${tensor.shape}]`);
  }
  return data;
}

/** The wasm-side id of `tensor`, as the backend's C functions take it. */
export function tensorId(backend: WasmBackend, tensor: TensorInfo): number {
  return tensorData(backend, tensor).id;
}

/**
 * A Float32Array over `tensor`'s heap memory (no copy). Valid until the wasm memory next grows, i.e. until
 * the next allocation: take a fresh one after allocating.
 */
export function heapF32(backend: WasmBackend, tensor: TensorInfo): Float32Array {
  const { memoryOffset } = tensorData(backend, tensor);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, util.sizeFromShape(tensor.shape));
}

/**
 * A tensor that aliases `shape`'s worth of heap memory at `memoryOffset` without allocating, so that stock
 * kernels can read or write part of another tensor. Release it with `releaseAlias`, never `disposeData`.
 */
export function aliasHeap(
  backend: WasmBackend,
  memoryOffset: number,
  shape: number[],
  dtype: DataType,
): TensorInfo {
  return backend.makeOutput(shape, dtype, memoryOffset);
}

/**
 * Unregisters an alias made by `aliasHeap`. `backend.disposeData` would `_free` the aliased memory, which
 * belongs to another tensor; this only drops the id (and the kernel caches keyed by it) on both sides.
 */
export function releaseAlias(backend: WasmBackend, alias: TensorInfo): void {
  if (!backend.dataIdMap.has(alias.dataId)) return;
  backend.wasm.tfjs.disposeData(backend.dataIdMap.get(alias.dataId).id);
  backend.dataIdMap.delete(alias.dataId);
}

/** Runs the wasm kernel registered as `name` (stock or linewise) directly, as tfjs kernels compose. */
export function runKernel(
  backend: WasmBackend,
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`no ${name} kernel is registered for wasm`);
  return kernel.kernelFunc({ inputs, backend: backend as unknown as KernelBackend, attrs }) as TensorInfo;
}
