import { defineConfig } from 'vitest/config';
import { longestFirst } from './tests/support/longest-first-sequencer.js';

/**
 * Unit tests that depend on how fast they run, so they run one at a time in fresh processes, as
 * every test used to: wall-clock bounds a busy core breaks (a 250 ms schema-work limit, a limiter's
 * refill slots, a drain's timing, 2,000 sockets in one process), and the batch runner's tests,
 * which drive a runner on 50 ms ticks against a simulator's batch clock.
 */
const TIMING_UNIT_TESTS = [
  'packages/core/src/providers/structured-output.test.ts',
  'packages/core/src/limiter/rate-limiter.test.ts',
  'packages/tokenizer/src/token-meter.test.ts',
  'apps/api/src/server/http-drain.test.ts',
  'apps/simulator/src/server.test.ts',
  'apps/worker/src/provider-batches/provider-batch-runner.test.ts',
];
/**
 * End-to-end files that run longest, started first so none is left running alone at the end; the
 * CPU-heavy ones (fuzzing, hundreds of jobs through killed workers) sit between ones that mostly wait.
 */
const LONGEST_E2E_TESTS = [
  'tests/e2e/every-job-ends.test.ts',
  'tests/e2e/openai-compat.test.ts',
  'tests/e2e/fair-share.test.ts',
  'tests/e2e/openai-batches-large.test.ts',
  'tests/e2e/job-events.test.ts',
  'tests/fuzz/api-fuzz.test.ts',
  'tests/e2e/provider-batches.test.ts',
  'tests/e2e/tracing.test.ts',
  'tests/fuzz/hostile-inputs.test.ts',
  'tests/e2e/rate-limits.test.ts',
  'tests/e2e/provider-accounts.test.ts',
  'tests/e2e/provider-batches-providers.test.ts',
  'tests/e2e/process-life.test.ts',
];
const ALWAYS_EXCLUDED = ['**/node_modules/**', '**/dist/**'];

// Groups run one after another (`sequence.groupOrder`), each with its own number of files at once.
// The chaos suite runs on its own: `pnpm test:chaos` (vitest.chaos.config.ts).
export default defineConfig({
  resolve: { conditions: ['llmq-source'] },
  ssr: { resolve: { conditions: ['llmq-source'], externalConditions: ['llmq-source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    sequence: { sequencer: longestFirst(LONGEST_E2E_TESTS) },
    projects: [
      {
        extends: true,
        test: {
          // In-process and CPU-bound: one file per core. Files share their worker's module cache
          // (no isolation): loading the modules again for each file was 3/4 of these files' time.
          // What modules keep is constants and lazily built tables (token ranks, compiled
          // schemas); each test builds its own app, store and Redis key prefix.
          name: 'unit',
          include: ['**/src/**/*.test.ts'],
          exclude: [...ALWAYS_EXCLUDED, ...TIMING_UNIT_TESTS],
          maxWorkers: 2,
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'unit-timing',
          include: TIMING_UNIT_TESTS,
          exclude: ALWAYS_EXCLUDED,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          // Real processes that mostly wait (provider latency, limit windows, timers): three files
          // at once keep two cores busy; more starve the processes they start.
          name: 'e2e',
          include: ['tests/**/*.test.ts'],
          exclude: [...ALWAYS_EXCLUDED, 'tests/chaos/**'],
          maxWorkers: 3,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
