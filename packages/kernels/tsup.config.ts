import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  // The matmul pool's worker is plain JavaScript loaded by path (next to dist/index.js), not bundled.
  onSuccess: async () => {
    await copyFile('src/wasm/matmul-worker.mjs', 'dist/matmul-worker.mjs');
  },
});
