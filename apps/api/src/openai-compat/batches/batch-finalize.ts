import type { JobStore } from '@llmq/core';
import { createFileId, type BatchFileStore } from './batch-file-store.js';
import type { BatchObject } from './batch-object.js';
import { outputLineOf } from './batch-output.js';
import type { BatchProgress } from './batch-progress-fields.js';
import type { BatchStore } from './batch-store.js';

/** Lines turned into output per step (records read at once, one APPEND per file). */
const LINES_PER_STEP = 200;
const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Writes a batch's output and error files, LINES_PER_STEP lines at a time, each step appended to
 * the files' content in Redis: neither the files nor their lines are ever held whole in memory.
 * Runs under the batch's lock; `keepLock` is asked between steps and stops the write when the lock
 * was lost. Files an interrupted finalize left unpublished are deleted first.
 */
export async function writeBatchFiles(options: {
  tenant: string;
  batch: BatchObject;
  progress: BatchProgress;
  batches: BatchStore;
  store: JobStore;
  files: BatchFileStore;
  keepLock: () => Promise<boolean>;
}): Promise<{ outputFileId: string | null; errorFileId: string | null } | null> {
  const { tenant, batch, progress, batches, store, files } = options;
  for (const leftover of [progress.outputFile, progress.errorFile]) {
    if (leftover !== null) await files.delete(tenant, leftover);
  }
  const output = { id: createFileId(), lines: 0 };
  const errors = { id: createFileId(), lines: 0 };
  await batches.setProgress(tenant, batch.id, { outputFile: output.id, errorFile: errors.id });
  const stopped =
    progress.stoppedAt !== null && progress.stopReason !== null
      ? { at: progress.stoppedAt, reason: progress.stopReason, message: progress.stopMessage }
      : null;
  for (let start = 0; start < progress.total; start += LINES_PER_STEP) {
    if (!(await options.keepLock())) return null;
    const lines = await batches.lines(tenant, batch.id, start, LINES_PER_STEP);
    const indexes = lines.map((_, position) => start + position);
    const [records, problems] = await Promise.all([
      Promise.all(lines.map((line) => ('jobId' in line ? store.get(tenant, line.jobId) : null))),
      progress.rejected > 0 ? batches.problems(tenant, batch.id, indexes) : new Map<number, string>(),
    ]);
    const pieces = { output: [] as string[], error: [] as string[] };
    for (const [position, line] of lines.entries()) {
      const index = start + position;
      const problem = problems.get(index);
      const written = outputLineOf(line, records[position] ?? null, {
        ...(problem !== undefined ? { problem } : {}),
        ...(stopped !== null && index >= stopped.at ? { stopped } : {}),
        ending: progress.ending,
      });
      if (written !== null) pieces[written.file].push(`${JSON.stringify(written.line)}\n`);
    }
    await files.append(tenant, output.id, Buffer.from(pieces.output.join('')));
    await files.append(tenant, errors.id, Buffer.from(pieces.error.join('')));
    output.lines += pieces.output.length;
    errors.lines += pieces.error.length;
    await pause();
  }
  const publish = async (file: { id: string; lines: number }, name: string) =>
    file.lines === 0
      ? null
      : (
          await files.publish({
            tenant,
            id: file.id,
            filename: `${batch.id}_${name}.jsonl`,
            purpose: 'batch_output',
            lines: file.lines,
          })
        ).id;
  return { outputFileId: await publish(output, 'output'), errorFileId: await publish(errors, 'error') };
}
