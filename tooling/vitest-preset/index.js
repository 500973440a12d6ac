// Plain JavaScript: vite loads config dependencies from node_modules without transpiling them.
import { defineConfig, mergeConfig } from 'vitest/config';

/** Workspace packages export `@linewise/source` -> `src/*.ts`, so tests never need a build. */
const conditions = ['@linewise/source', 'module', 'node', 'development|production'];

export const preset = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@linewise/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The JSON report lets CI print one "N passed, N failed" line for the whole workspace.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});

/** The shared preset merged with a package's own settings. */
export function linewiseVitest(overrides = {}) {
  return mergeConfig(preset, overrides);
}
