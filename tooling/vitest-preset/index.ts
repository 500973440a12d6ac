import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';

/** Workspace packages export `@linewise/source` -> `src/*.ts`, so tests never need a build. */
const conditions = ['@linewise/source', 'module', 'node', 'development|production'];

export const preset = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@linewise/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});

export function linewiseVitest(overrides: ViteUserConfig = {}): ViteUserConfig {
  return mergeConfig(preset, overrides);
}
