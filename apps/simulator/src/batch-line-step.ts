import type { LineAnswer, LineStep } from './batch-runner.js';
import type { InjectedFault } from './fault-rules.js';
import type { SimulatedFailure } from './provider-endpoint.js';

/** The failure an injected fault stands for when it hits a batch line. */
function failureOf(fault: InjectedFault, model: string): SimulatedFailure | undefined {
  switch (fault.kind) {
    case '429': {
      const retryAfterMs = fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 1) * 1000;
      return {
        kind: 'rate_limit',
        model,
        limitType: 'requests',
        limit: 1,
        used: 1,
        requested: 1,
        retryAfterMs,
        tooLarge: false,
      };
    }
    case 'insufficient_quota':
      return { kind: 'insufficient_quota' };
    case '500':
    case 'reset':
      // A line has no connection to reset: it fails as the server error a reset stands for.
      return { kind: 'server_error' };
    case '503':
    case '529':
      return { kind: 'overloaded' };
    case 'hang':
    case 'hold':
    case 'timeout_then_ok':
      return undefined;
  }
}

/**
 * A line's fate under the fault rules, taken once per line with the line's sync path, model and
 * JSON text: error faults answer the provider's error for the line, "hang" leaves it unanswered
 * (canceled or expired with its batch), "hold" waits for the rules to change, "timeout_then_ok"
 * answers `delay_ms` later. No fault: the sync endpoint's answer.
 */
export function lineStep<Result>(options: {
  fault: InjectedFault | undefined;
  model: string;
  answer: () => LineAnswer<Result>;
  fail: (failure: SimulatedFailure) => LineAnswer<Result>;
}): LineStep<Result> {
  const { fault, answer } = options;
  if (fault === undefined) return { kind: 'answer', answer: answer() };
  switch (fault.kind) {
    case 'hang':
      return { kind: 'hang' };
    case 'hold':
      return { kind: 'hold', answer };
    case 'timeout_then_ok':
      return { kind: 'delay', delayMs: fault.delayMs, answer };
    default: {
      const failure = failureOf(fault, options.model);
      return { kind: 'answer', answer: failure === undefined ? answer() : options.fail(failure) };
    }
  }
}
