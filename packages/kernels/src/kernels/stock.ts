import type { KernelConfig } from '@tensorflow/tfjs-core';

/** Stock tfjs kernels that linewise overrides, kept (per backend and name) for the cases it hands back. */
const stock = new Map<string, KernelConfig>();

/** Remembers `config` as the stock kernel for its backend and name, unless one is remembered already. */
export function rememberStockKernel(config: KernelConfig): void {
  const key = `${config.backendName}/${config.kernelName}`;
  if (!stock.has(key)) stock.set(key, config);
}

/** The stock kernel that a linewise override replaced; throws if there was none. */
export function stockKernel(backendName: string, kernelName: string): KernelConfig {
  const config = stock.get(`${backendName}/${kernelName}`);
  if (config === undefined)
    throw new Error(`no stock ${kernelName} kernel was registered for ${backendName}`);
  return config;
}
