import { DelayedError, UnrecoverableError } from 'bullmq';
import { formatModelName, type AccountRoute, type CircuitChecker, type ModelReference } from '@llmq/core';
import type { AccountChooser } from '../account-chooser.js';
import type { JobRun, LlmJobReturn } from './job-run.js';

export type ModelPick =
  | {
      index: number;
      reference: ModelReference;
      model: string;
      /** The provider account to call through, for a provider with accounts. */
      route?: AccountRoute;
    }
  | LlmJobReturn;

/**
 * The model to call: the job's current one, or the next whose circuit is closed; with none left,
 * the job waits for the circuit (woken by its deadline at the latest). For a provider with
 * accounts, a model is available while one of its accounts' circuits is closed, and the pick
 * names the account (see AccountChooser).
 */
export async function pickModel(
  run: JobRun,
  chain: readonly ModelReference[],
  circuit: CircuitChecker,
  accounts?: AccountChooser,
): Promise<ModelPick> {
  const { data } = run;
  let index = Math.min(data.modelIndex ?? 0, chain.length - 1);
  for (;;) {
    const reference = chain[index];
    if (reference === undefined) throw new UnrecoverableError('the job names no model');
    const model = formatModelName(reference);
    const sameModel = index === (data.modelIndex ?? 0);
    const choice = accounts
      ? await accounts.choose(reference, {
          tenant: run.tenant,
          tokens: data.tokens,
          keep: sameModel && data.reservationAttempt === run.job.attemptsMade ? data.account : undefined,
          avoid: sameModel ? data.avoidAccounts : undefined,
          prefix: data.prefix,
        })
      : ({ kind: 'none' } as const);
    if (choice.kind === 'chosen') return { index, reference, model, route: choice.route };
    const verdict = choice.kind === 'none' ? await circuit.check(model) : { allowed: false, waitMs: choice.waitMs };
    if (verdict.allowed) return { index, reference, model };
    if (index + 1 < chain.length) {
      index += 1;
      continue;
    }
    const waitMs = Math.max(0, Math.min(verdict.waitMs, data.deadlineAt - Date.now()));
    if (!(await run.park({ reason: 'circuit_open', waitMs, patch: { modelIndex: index } }))) {
      return { status: 'skipped' };
    }
    throw new DelayedError();
  }
}
