import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { disableNativeBlas, loadNativeBlas } from '../../src/native.ts';

const LIBRARY_DIRS = ['/usr/lib', '/usr/lib64', '/usr/local/lib'];

/**
 * Whether the native BLAS tests can run. They skip only when OpenBLAS is truly absent (or switched off
 * with LINEWISE_NATIVE=0); an installed OpenBLAS without a built addon is a failed build, and throws.
 */
export function nativeSkipReason(): string | undefined {
  const loaded = loadNativeBlas();
  disableNativeBlas();
  if (loaded !== undefined) return undefined;
  if (process.env.LINEWISE_NATIVE === '0') return 'disabled by LINEWISE_NATIVE=0';
  if (hasOpenblas()) {
    throw new Error(
      'OpenBLAS is installed but native/build/Release/linewise_blas.node is missing: ' +
        'run `pnpm --filter @linewise/kernels build:native` and read its output',
    );
  }
  return 'OpenBLAS is not installed (apt-get install libopenblas-dev)';
}

function hasOpenblas(): boolean {
  const folders = LIBRARY_DIRS.filter((dir) => existsSync(dir)).flatMap((dir) => [
    dir,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name)),
  ]);
  return folders.some(
    (dir) => existsSync(join(dir, 'libopenblas.so')) || existsSync(join(dir, 'libopenblas.dylib')),
  );
}
