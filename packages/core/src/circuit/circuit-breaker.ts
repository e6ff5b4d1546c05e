import type { Redis } from 'ioredis';
import type { ProviderErrorKind } from '../providers/provider-error.js';
import { KEY_NAMESPACE } from '../store/job-keys.js';
import { readLuaScript } from '../store/lua-scripts.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a circuit. Default 5. */
  consecutiveFailures?: number;
  /** Failure rate that opens it once a window has `minimumCalls` calls. Default 0.5. */
  failureRate?: number;
  /** Default 20. */
  minimumCalls?: number;
  /** Window over which the rate is counted, ms. Default 60,000. */
  windowMs?: number;
  /** How long an open circuit refuses calls before a probe, ms. Default 30,000. */
  openMs?: number;
  /** How long other callers wait for a probe's verdict (a probe that never reports), ms. Default 30,000. */
  probeLeaseMs?: number;
}

interface CircuitCommands {
  llmqCircuit(key: string, ...args: string[]): Promise<[number, CircuitState, number]>;
}

// Failures that say the model is unwell; a 429 is the limiter's business, a 4xx the caller's.
const COUNTED: ReadonlySet<ProviderErrorKind> = new Set(['overloaded', 'provider_error', 'timeout', 'connection']);

export function countsAgainstCircuit(kind: ProviderErrorKind): boolean {
  return COUNTED.has(kind);
}

export function circuitKey(model: string): string {
  return `${KEY_NAMESPACE}:{rl:${model}}:circuit`;
}

/**
 * A call's outcome for the circuit: `dead` is a failure that opens it at once (a provider
 * account whose key was refused will not heal in the next call).
 */
export type CircuitOutcome = 'success' | 'failure' | 'dead';

/** What the worker's processor needs of a circuit breaker. */
export interface CircuitChecker {
  check(model: string): Promise<{ allowed: boolean; state: CircuitState; waitMs: number }>;
  record(model: string, outcome: CircuitOutcome): Promise<CircuitState | undefined>;
}

/** A circuit breaker per provider/model, its state in Redis so every worker shares it. */
export class CircuitBreaker {
  readonly #redis: Redis & CircuitCommands;
  readonly #settings: string[];

  constructor(redis: Redis, options: CircuitBreakerOptions = {}) {
    const commands = redis as Redis & CircuitCommands;
    if (typeof commands.llmqCircuit !== 'function') {
      redis.defineCommand('llmqCircuit', {
        numberOfKeys: 1,
        lua: readLuaScript(new URL('./lua/circuit.lua', import.meta.url)),
      });
    }
    this.#redis = commands;
    this.#settings = [
      options.consecutiveFailures ?? 5,
      options.failureRate ?? 0.5,
      options.minimumCalls ?? 20,
      options.windowMs ?? 60_000,
      options.openMs ?? 30_000,
      options.probeLeaseMs ?? 30_000,
    ].map(String);
  }

  /** May a call to `model` go now? When not, `waitMs` says when to try again. */
  async check(model: string): Promise<{ allowed: boolean; state: CircuitState; waitMs: number }> {
    const [allowed, state, waitMs] = await this.#redis.llmqCircuit(circuitKey(model), 'check', ...this.#settings);
    return { allowed: allowed === 1, state, waitMs: Number(waitMs) };
  }

  /** Records calls' outcomes; `calls` > 1 reports a batch of successes at once. `dead` opens it now. */
  async record(model: string, outcome: CircuitOutcome, calls = 1): Promise<CircuitState> {
    // A dead call counts as the run of failures that opens the circuit.
    const counted = outcome === 'dead' ? Number(this.#settings[0]) : calls;
    const mode = outcome === 'dead' ? 'failure' : outcome;
    const [, state] = await this.#redis.llmqCircuit(circuitKey(model), mode, ...this.#settings, String(counted));
    return state;
  }
}
