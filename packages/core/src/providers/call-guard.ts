import { ProviderError } from './provider-error.js';

export interface CallGuardOptions {
  provider: string;
  /** The caller's signal (cancellation, shutdown). */
  signal?: AbortSignal | undefined;
  /** Limit of the whole call, ms. */
  timeoutMs: number;
  /** Longest silence between two streamed chunks, ms; undefined for none. */
  idleTimeoutMs?: number | undefined;
}

/**
 * One AbortSignal for a provider call that fires on the caller's abort, on the overall deadline,
 * or when the stream goes quiet for too long, and remembers which, so the adapter can throw the
 * right ProviderError instead of the SDK's generic abort error.
 */
export class CallGuard {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #options: CallGuardOptions;
  #reason: ProviderError | undefined;
  #deadline: NodeJS.Timeout;
  #idle: NodeJS.Timeout | undefined;
  readonly #onCallerAbort = () =>
    this.#abort(
      new ProviderError({ provider: this.#options.provider, kind: 'canceled', message: 'the call was canceled' }),
    );

  constructor(options: CallGuardOptions) {
    this.#options = options;
    this.signal = this.#controller.signal;
    if (options.signal?.aborted) this.#onCallerAbort();
    options.signal?.addEventListener('abort', this.#onCallerAbort, { once: true });
    this.#deadline = setTimeout(
      () =>
        this.#abort(
          new ProviderError({
            provider: options.provider,
            kind: 'timeout',
            message: `no complete answer within ${options.timeoutMs} ms`,
          }),
        ),
      options.timeoutMs,
    );
    this.touch();
  }

  /** A chunk arrived: restart the idle timer. */
  touch(): void {
    const idleMs = this.#options.idleTimeoutMs;
    if (idleMs === undefined || this.#reason !== undefined) return;
    if (this.#idle === undefined) {
      this.#idle = setTimeout(() => this.#onIdle(idleMs), idleMs);
    } else {
      this.#idle.refresh();
    }
  }

  /** Why the signal fired, or undefined when it has not. */
  get reason(): ProviderError | undefined {
    return this.#reason;
  }

  /** The error to throw for `error`: the guard's reason when it aborted the call, else `fallback(error)`. */
  failure(error: unknown, fallback: (error: unknown) => ProviderError): ProviderError {
    return this.#reason ?? fallback(error);
  }

  dispose(): void {
    clearTimeout(this.#deadline);
    clearTimeout(this.#idle);
    this.#options.signal?.removeEventListener('abort', this.#onCallerAbort);
  }

  #onIdle(idleMs: number): void {
    this.#abort(
      new ProviderError({
        provider: this.#options.provider,
        kind: 'timeout',
        message: `the stream was silent for ${idleMs} ms`,
      }),
    );
  }

  #abort(reason: ProviderError): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.dispose();
    this.#controller.abort(reason);
  }
}
