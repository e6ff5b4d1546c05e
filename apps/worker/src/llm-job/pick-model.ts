import { DelayedError, UnrecoverableError } from 'bullmq';
import { formatModelName, type CircuitChecker, type ModelReference } from '@llmq/core';
import type { JobRun, LlmJobReturn } from './job-run.js';

export type ModelPick = { index: number; reference: ModelReference; model: string } | LlmJobReturn;

/**
 * The model to call: the job's current one, or the next whose circuit is closed; with none left,
 * the job waits for the circuit (woken by its deadline at the latest).
 */
export async function pickModel(
  run: JobRun,
  chain: readonly ModelReference[],
  circuit: CircuitChecker,
): Promise<ModelPick> {
  let index = Math.min(run.data.modelIndex ?? 0, chain.length - 1);
  for (;;) {
    const verdict = await circuit.check(formatModelName(chain[index] ?? { provider: '', modelId: '' }));
    if (verdict.allowed) break;
    if (index + 1 < chain.length) {
      index += 1;
      continue;
    }
    const waitMs = Math.max(0, Math.min(verdict.waitMs, run.data.deadlineAt - Date.now()));
    if (!(await run.park({ reason: 'circuit_open', waitMs, patch: { modelIndex: index } })))
      return { status: 'skipped' };
    throw new DelayedError();
  }
  const reference = chain[index];
  if (reference === undefined) throw new UnrecoverableError('the job names no model');
  return { index, reference, model: formatModelName(reference) };
}
