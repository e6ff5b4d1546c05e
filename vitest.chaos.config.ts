import { defineConfig } from 'vitest/config';

// `pnpm test:chaos`: kills workers and Redis, takes a webhook receiver down, storms the provider.
// Each scenario runs thousands of jobs through real processes, so files run one at a time.
export default defineConfig({
  resolve: { conditions: ['llmq-source'] },
  ssr: { resolve: { conditions: ['llmq-source'], externalConditions: ['llmq-source'] } },
  test: {
    include: ['tests/chaos/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
