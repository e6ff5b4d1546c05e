import type { Redis } from 'ioredis';
import { JOB_CANCEL_CHANNEL, type Logger } from '@llmq/core';

/**
 * Lets `DELETE /v1/jobs/{id}` abort a provider call in whichever worker process holds it: the API
 * publishes on one channel, each worker aborts the calls it has in flight for that job.
 */
export class CancelRegistry {
  readonly #controllers = new Map<string, AbortController>();

  private constructor(private readonly logger: Logger) {}

  static async start(options: { subscriber: Redis; logger: Logger }): Promise<CancelRegistry> {
    const registry = new CancelRegistry(options.logger);
    options.subscriber.on('message', (_channel: string, message: string) => registry.#onMessage(message));
    await options.subscriber.subscribe(JOB_CANCEL_CHANNEL);
    return registry;
  }

  /** A signal that fires if the job is canceled; call `release` when the call is over. */
  track(tenant: string, jobId: string): { signal: AbortSignal; release: () => void } {
    const key = `${tenant}\u0000${jobId}`;
    const controller = new AbortController();
    this.#controllers.set(key, controller);
    return {
      signal: controller.signal,
      release: () => {
        if (this.#controllers.get(key) === controller) this.#controllers.delete(key);
      },
    };
  }

  /** Calls in flight, for shutdown and the watchdog. */
  get size(): number {
    return this.#controllers.size;
  }

  #onMessage(message: string): void {
    let target: { tenant?: unknown; id?: unknown };
    try {
      target = JSON.parse(message) as { tenant?: unknown; id?: unknown };
    } catch {
      return;
    }
    const controller = this.#controllers.get(`${String(target.tenant)}\u0000${String(target.id)}`);
    if (controller === undefined) return;
    this.logger.info({ jobId: target.id }, 'aborting a canceled call');
    controller.abort();
  }
}
