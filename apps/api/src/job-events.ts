import type { Redis } from 'ioredis';
import { JOB_EVENTS_CHANNEL, type JobStatus, type Logger } from '@llmq/core';

export interface JobEvent {
  id: string;
  tenant: string;
  status: JobStatus;
  previous: JobStatus;
}

type Listener = (event: JobEvent) => void;

/**
 * One Redis subscription per API process, fanned out in memory to whoever waits on a job
 * (`?wait=`, and later the SSE stream).
 */
export class JobEvents {
  readonly #subscriber: Redis;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #logger: Logger;

  private constructor(subscriber: Redis, logger: Logger) {
    this.#subscriber = subscriber;
    this.#logger = logger;
  }

  /** Subscribes on a dedicated connection (a subscribed connection can run nothing else). */
  static async start(options: { subscriber: Redis; logger: Logger }): Promise<JobEvents> {
    const events = new JobEvents(options.subscriber, options.logger);
    options.subscriber.on('message', (_channel: string, message: string) => events.#dispatch(message));
    await options.subscriber.subscribe(JOB_EVENTS_CHANNEL);
    return events;
  }

  /** Calls `listener` for every change of the job until the returned function is called. */
  on(tenant: string, jobId: string, listener: Listener): () => void {
    const key = `${tenant}\u0000${jobId}`;
    let listeners = this.#listeners.get(key);
    if (listeners === undefined) {
      listeners = new Set();
      this.#listeners.set(key, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#listeners.delete(key);
    };
  }

  #dispatch(message: string): void {
    let event: JobEvent;
    try {
      event = JSON.parse(message) as JobEvent;
    } catch {
      this.#logger.warn('ignored a malformed job event');
      return;
    }
    const listeners = this.#listeners.get(`${event.tenant}\u0000${event.id}`);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) listener(event);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#subscriber.quit().catch(() => undefined);
  }
}
