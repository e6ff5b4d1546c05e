import type { z } from 'zod';
import type { BatchLines, JobSubmission } from '@llmq/core';
import type { BatchFileStore } from './batch-file-store.js';
import { batchJobId } from './batch-job-id.js';
import { readBatchLines } from './batch-lines.js';
import type { BatchObject } from './batch-object.js';
import type { BatchLineRef, BatchStore } from './batch-store.js';

/** Lines written to Redis per command. */
const LINES_PER_WRITE = 1_000;
const pause = () => new Promise<void>((resolve) => setImmediate(resolve));
const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * Validates a `validating` batch's input file and writes its lines (each valid one with its job id
 * and validated submission), then starts its acceptance; or fails the batch with OpenAI's
 * `errors`. The file is read in 1 MiB pieces and checked with pauses for the event loop; a retaken
 * intake starts over from nothing. Answers the batch as it now is.
 */
export async function intakeBatch(options: {
  tenant: string;
  batch: BatchObject;
  batches: BatchStore;
  files: BatchFileStore;
  submissionSchema: z.ZodType<JobSubmission>;
  lines: BatchLines;
}): Promise<BatchObject> {
  const { tenant, batch, batches, files } = options;
  const pieces = await files.content(tenant, batch.input_file_id);
  const chunks: Buffer[] = [];
  if (pieces !== null) for await (const piece of pieces) chunks.push(piece);
  const read =
    pieces === null
      ? {
          lines: [],
          errors: [{ code: 'invalid_file', message: 'the input file was deleted', param: null, line: null }],
        }
      : await readBatchLines({
          content: Buffer.concat(chunks),
          endpoint: batch.endpoint,
          submissionSchema: options.submissionSchema,
        });
  if (read.errors.length > 0 || read.lines.length === 0) {
    const errors =
      read.errors.length > 0
        ? read.errors
        : [{ code: 'empty_file', message: 'the input file holds no requests', param: null, line: null }];
    const failed: BatchObject = {
      ...batch,
      status: 'failed',
      failed_at: seconds(Date.now()),
      errors: { object: 'list', data: errors },
    };
    await batches.save(tenant, failed);
    return failed;
  }
  await batches.clearLines(tenant, batch.id);
  const lines = (await batches.progress(tenant, batch.id)).lines ?? options.lines;
  let valid = 0;
  for (let start = 0; start < read.lines.length; start += LINES_PER_WRITE) {
    const slice = read.lines.slice(start, start + LINES_PER_WRITE);
    const refs: BatchLineRef[] = [];
    const requests: string[] = [];
    for (const [position, line] of slice.entries()) {
      if ('problem' in line) {
        refs.push({ customId: line.customId, problem: line.problem });
        requests.push('');
      } else {
        refs.push({ customId: line.customId, jobId: batchJobId(batch.id, start + position) });
        // A batch's window is 24 hours: its lines may wait for a provider batch, at the batch price.
        requests.push(
          JSON.stringify(lines === 'defer' ? { ...line.submission, completion_window: '24h' } : line.submission),
        );
        valid += 1;
      }
    }
    await batches.appendLines(tenant, batch.id, refs, requests);
    await pause();
  }
  const total = read.lines.length;
  const started: BatchObject = {
    ...batch,
    status: 'in_progress',
    in_progress_at: seconds(Date.now()),
    request_counts: { total, completed: 0, failed: total - valid },
  };
  await batches.startProgress(tenant, started, { valid, refused: total - valid });
  return started;
}
