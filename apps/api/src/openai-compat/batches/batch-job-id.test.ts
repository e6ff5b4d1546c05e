import { describe, expect, it } from 'vitest';
import { isJobId } from '@llmq/core';
import { createBatchId } from './batch-object.js';
import { batchJobId } from './batch-job-id.js';

describe('batchJobId', () => {
  it('is a job id, the same for the same line and distinct across lines and batches', () => {
    const batch = createBatchId(1_763_683_200_000);
    const other = createBatchId(1_763_683_200_000);
    const ids = new Set(Array.from({ length: 50_000 }, (_, line) => batchJobId(batch, line)));
    expect(ids.size).toBe(50_000);
    expect(isJobId(batchJobId(batch, 7))).toBe(true);
    expect(batchJobId(batch, 7)).toBe(batchJobId(batch, 7));
    expect(batchJobId(other, 7)).not.toBe(batchJobId(batch, 7));
  });

  it('sorts with the jobs made when the batch was', () => {
    const batch = createBatchId(1_763_683_200_000);
    expect(batchJobId(batch, 0) > `job_${'0'.repeat(10)}`).toBe(true);
    expect(batchJobId(batch, 0).slice(0, 14)).toBe(batchJobId(createBatchId(1_763_683_200_000), 9).slice(0, 14));
  });
});
