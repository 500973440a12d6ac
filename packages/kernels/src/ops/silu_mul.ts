import { engine, mul, sigmoid, type Tensor, tidy, util } from '@tensorflow/tfjs-core';
import { type ArrayKernel, arrayKernelConfigs, type TypedArray } from '../kernels/array_kernel.ts';
import { exp } from '../kernels/fast_math.ts';
import { float32Like, hasKernel, kernelGradConfig } from './op_util.ts';

export const SiluMul = 'LinewiseSiluMul';
export const SiluMulGrad = 'LinewiseSiluMulGrad';

/** `silu(gate) * up` (SwiGLU). Shapes that differ broadcast through the stock-op path. */
export function siluMul(gate: Tensor, up: Tensor): Tensor {
  util.assert(
    gate.dtype === 'float32' && up.dtype === 'float32',
    () => `siluMul: gate and up must be float32, got ${gate.dtype} and ${up.dtype}`,
  );
  if (util.arraysEqual(gate.shape, up.shape) && hasKernel(SiluMul)) {
    return engine().runKernel(SiluMul, { gate, up });
  }
  return siluMulComposite(gate, up);
}

/** `siluMul` from stock ops: the path where the kernel is missing, and the reference in tests. */
export function siluMulComposite(gate: Tensor, up: Tensor): Tensor {
  return tidy(() => mul(mul(gate, sigmoid(gate)), up));
}

function forward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [gate, up] = inputs as [Float32Array, Float32Array];
  const [y] = outputs as [Float32Array];
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i] as number;
    y[i] = (g / (1 + exp(-g))) * (up[i] as number);
  }
}

/** dgate = dy * up * s * (1 + gate * (1 - s)), dup = dy * gate * s, with s = sigmoid(gate). */
function backward(inputs: TypedArray[], outputs: TypedArray[]): void {
  const [dy, gate, up] = inputs as [Float32Array, Float32Array, Float32Array];
  const [dgate, dup] = outputs as [Float32Array, Float32Array];
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i] as number;
    const d = dy[i] as number;
    const s = 1 / (1 + exp(-g));
    dgate[i] = d * (up[i] as number) * s * (1 + g * (1 - s));
    dup[i] = d * g * s;
  }
}

const siluMulKernel: ArrayKernel = {
  kernelName: SiluMul,
  inputNames: ['gate', 'up'],
  outputs: ([gate]) => [float32Like(gate)],
  compute: forward,
};

const siluMulGradKernel: ArrayKernel = {
  kernelName: SiluMulGrad,
  inputNames: ['dy', 'gate', 'up'],
  outputs: ([, gate]) => [float32Like(gate), float32Like(gate)],
  compute: backward,
};

export const siluMulKernels = arrayKernelConfigs(siluMulKernel, siluMulGradKernel);

export const siluMulGradConfig = kernelGradConfig({
  kernelName: SiluMul,
  gradKernelName: SiluMulGrad,
  inputsToSave: ['gate', 'up'],
  grads: ['gate', 'up'],
});
