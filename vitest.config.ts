import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['llmq-source'] },
  ssr: { resolve: { conditions: ['llmq-source'], externalConditions: ['llmq-source'] } },
  test: {
    include: ['**/src/**/*.test.ts', 'tests/**/*.test.ts'],
    // The chaos suite runs on its own: `pnpm test:chaos` (vitest.chaos.config.ts).
    exclude: ['**/node_modules/**', '**/dist/**', 'tests/chaos/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
