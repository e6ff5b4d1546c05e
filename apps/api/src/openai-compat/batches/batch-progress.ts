import type { JobStore } from '@llmq/core';
import type { BatchFileStore } from './batch-file-store.js';
import type { BatchObject } from './batch-object.js';
import { outputLineOf } from './batch-output.js';
import type { BatchStore } from './batch-store.js';

/** Jobs of a batch checked per read: the cost of a read stays bounded, the counts converge. */
const CHECKS_PER_READ = 1_000;
/** Lines turned into output per step of the finalize (records read at once). */
const LINES_PER_STEP = 200;
/** Longest a finalize may hold its lock before another reader may take over, ms. */
const FINALIZE_LOCK_MS = 120_000;

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * Brings a batch up to date when it is read: the API, not the worker, notices its jobs' ends
 * (a bounded sample per read), and the read that finds none left writes the output and error
 * files and ends the batch.
 */
export async function refreshBatch(options: {
  tenant: string;
  batch: BatchObject;
  batches: BatchStore;
  store: JobStore;
  files: BatchFileStore;
}): Promise<BatchObject> {
  const { tenant, batches, store } = options;
  let batch = options.batch;
  if (batch.status !== 'in_progress' && batch.status !== 'cancelling') return batch;
  const sample = await batches.pendingSample(tenant, batch.id, CHECKS_PER_READ);
  for (let start = 0; start < sample.length; start += LINES_PER_STEP) {
    const records = await Promise.all(
      sample.slice(start, start + LINES_PER_STEP).map((jobId) => store.get(tenant, jobId)),
    );
    for (const [index, record] of records.entries()) {
      const jobId = sample[start + index];
      if (jobId === undefined) continue;
      if (record === null) await batches.settle(tenant, batch.id, jobId, 'failed');
      else if (record.status === 'succeeded') await batches.settle(tenant, batch.id, jobId, 'completed');
      else if (record.status === 'failed' || record.status === 'canceled') {
        await batches.settle(tenant, batch.id, jobId, 'failed');
      }
    }
  }
  if ((await batches.pendingCount(tenant, batch.id)) > 0) return (await batches.get(tenant, batch.id)) ?? batch;
  if (!(await batches.lock(tenant, batch.id, FINALIZE_LOCK_MS))) return batch;
  try {
    const current = await batches.get(tenant, batch.id);
    if (current === null || (current.status !== 'in_progress' && current.status !== 'cancelling'))
      return current ?? batch;
    batch = current;
    const cancelled = batch.status === 'cancelling';
    if (!cancelled) {
      batch = { ...batch, status: 'finalizing', finalizing_at: seconds(Date.now()) };
      await batches.save(tenant, batch);
    }
    const { outputFileId, errorFileId } = await writeOutputFiles({ ...options, batch });
    const now = seconds(Date.now());
    batch = {
      ...batch,
      output_file_id: outputFileId,
      error_file_id: errorFileId,
      ...(cancelled
        ? { status: 'cancelled' as const, cancelled_at: now }
        : { status: 'completed' as const, completed_at: now }),
    };
    await batches.save(tenant, batch);
    return (await batches.get(tenant, batch.id)) ?? batch;
  } finally {
    await batches.unlock(tenant, batch.id);
  }
}

async function writeOutputFiles(options: {
  tenant: string;
  batch: BatchObject;
  batches: BatchStore;
  store: JobStore;
  files: BatchFileStore;
}): Promise<{ outputFileId: string | null; errorFileId: string | null }> {
  const { tenant, batch, batches, store, files } = options;
  const output: string[] = [];
  const errors: string[] = [];
  for (let start = 0; ; start += LINES_PER_STEP) {
    const lines = await batches.lines(tenant, batch.id, start, LINES_PER_STEP);
    if (lines.length === 0) break;
    const records = await Promise.all(lines.map((line) => ('jobId' in line ? store.get(tenant, line.jobId) : null)));
    for (const [index, line] of lines.entries()) {
      const written = outputLineOf(line, records[index] ?? null);
      if (written === null) continue;
      (written.file === 'output' ? output : errors).push(JSON.stringify(written.line));
    }
  }
  const save = async (lines: string[], name: string) =>
    lines.length === 0
      ? null
      : (
          await files.create({
            tenant,
            filename: `${batch.id}_${name}.jsonl`,
            purpose: 'batch_output',
            content: Buffer.from(`${lines.join('\n')}\n`),
            lines: lines.length,
          })
        ).id;
  return { outputFileId: await save(output, 'output'), errorFileId: await save(errors, 'error') };
}
