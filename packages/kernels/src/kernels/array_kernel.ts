import {
  type backend_util,
  type DataId,
  type DataType,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { activeNativeBlas, type NativeBlas } from '../native.ts';

export type TypedArray = backend_util.TypedArray;

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` these kernels use, declared rather than imported because
 * its published types pull in Emscripten's globals.
 */
export interface WasmArrays {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A view of the tensor's heap memory (no copy), detached when the heap next grows. */
  typedArrayFromHeap(tensor: TensorInfo): TypedArray;
  dataIdMap: { get(dataId: DataId): { stringBytes?: Uint8Array[] | null } | undefined };
  incRef(dataId: DataId): void;
  disposeData(dataId: DataId): boolean;
}

/** The parts of tfjs-backend-cpu's `MathBackendCPU` these kernels use. */
interface CpuArrays {
  data: { get(dataId: DataId): { values?: backend_util.BackendValues } | undefined };
  makeTensorInfo(shape: number[], dtype: DataType, values: backend_util.BackendValues): TensorInfo;
}

/** Shape and dtype of a kernel output, known before the kernel body runs. */
export interface OutputSpec {
  shape: number[];
  dtype: DataType;
}

/**
 * A kernel written once as loops over flat typed arrays, run on wasm heap views and on cpu backend data
 * alike (no copies on either). `compute` must write every output element: wasm outputs are not zeroed.
 */
export interface ArrayKernel {
  kernelName: string;
  /** Input names in the order `compute` takes them; omitted for variadic kernels (inputs '0', '1', ...). */
  inputNames?: string[];
  outputs(inputs: TensorInfo[], attrs: NamedAttrMap): OutputSpec[];
  compute(inputs: TypedArray[], outputs: TypedArray[], attrs: NamedAttrMap): void;
  /**
   * The same computation by the native addon, on wasm while it is active: `heap` is the wasm memory,
   * `inputs`/`outputs` byte offsets into it, `shapes` the inputs' shapes.
   */
  native?(
    blas: NativeBlas,
    heap: ArrayBuffer,
    inputs: number[],
    outputs: number[],
    shapes: number[][],
    attrs: NamedAttrMap,
  ): void;
}

/** wasm and cpu kernel configs for one kernel or a group of them, as `register.ts` takes them. */
export interface BackendKernels {
  wasm: KernelConfig[];
  cpu: KernelConfig[];
}

/** The wasm backend behind a kernel's `backend` argument. */
export function wasmArrays(backend: unknown): WasmArrays {
  return backend as WasmArrays;
}

/** Registrable wasm and cpu configs for `kernels`. */
export function arrayKernelConfigs(...kernels: ArrayKernel[]): BackendKernels {
  return {
    wasm: kernels.map((kernel) => ({
      kernelName: kernel.kernelName,
      backendName: 'wasm',
      kernelFunc: ((args) =>
        runOnWasm(kernel, args.inputs, args.attrs ?? {}, wasmArrays(args.backend))) as KernelFunc,
    })),
    cpu: kernels.map((kernel) => ({
      kernelName: kernel.kernelName,
      backendName: 'cpu',
      kernelFunc: ((args) =>
        runOnCpu(kernel, args.inputs, args.attrs ?? {}, args.backend as CpuArrays)) as KernelFunc,
    })),
  };
}

function runOnWasm(
  kernel: ArrayKernel,
  inputMap: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: WasmArrays,
): TensorInfo | TensorInfo[] {
  const inputs = orderedInputs(kernel, inputMap);
  const outputs = kernel.outputs(inputs, attrs).map(({ shape, dtype }) => backend.makeOutput(shape, dtype));
  // Views only after every allocation: growing the heap detaches views taken before.
  const inputViews = inputs.map((t) => backend.typedArrayFromHeap(t));
  const outputViews = outputs.map((t) => backend.typedArrayFromHeap(t));
  const blas = kernel.native === undefined ? undefined : activeNativeBlas();
  if (blas !== undefined && kernel.native !== undefined) {
    kernel.native(
      blas,
      (outputViews[0] as TypedArray).buffer as ArrayBuffer,
      inputViews.map((view) => view.byteOffset),
      outputViews.map((view) => view.byteOffset),
      inputs.map((t) => t.shape),
      attrs,
    );
  } else {
    kernel.compute(inputViews, outputViews, attrs);
  }
  return outputs.length === 1 ? (outputs[0] as TensorInfo) : outputs;
}

function runOnCpu(
  kernel: ArrayKernel,
  inputMap: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: CpuArrays,
): TensorInfo | TensorInfo[] {
  const inputs = orderedInputs(kernel, inputMap);
  const specs = kernel.outputs(inputs, attrs);
  const outputs = specs.map(({ shape, dtype }) =>
    util.getTypedArrayFromDType(dtype as 'float32', util.sizeFromShape(shape)),
  );
  kernel.compute(
    inputs.map((t) => backend.data.get(t.dataId)?.values as TypedArray),
    outputs,
    attrs,
  );
  const infos = specs.map(({ shape, dtype }, i) =>
    backend.makeTensorInfo(shape, dtype, outputs[i] as TypedArray),
  );
  return infos.length === 1 ? (infos[0] as TensorInfo) : infos;
}

function orderedInputs(kernel: ArrayKernel, inputs: NamedTensorInfoMap): TensorInfo[] {
  const names = kernel.inputNames ?? Object.keys(inputs);
  return names.map((name) => {
    const input = inputs[name];
    if (input === undefined) throw new Error(`${kernel.kernelName}: missing input '${name}'`);
    return input;
  });
}
