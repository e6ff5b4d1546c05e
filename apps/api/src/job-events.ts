import type { Redis } from 'ioredis';
import {
  JOB_EVENTS_CHANNEL,
  partialOutputChannel,
  type JobStatus,
  type Logger,
  type PartialOutputMessage,
} from '@llmq/core';

export interface JobEvent {
  id: string;
  tenant: string;
  status: JobStatus;
  previous: JobStatus;
}

type Listener<T> = (event: T) => void;

/**
 * One Redis subscriber per API process, fanned out in memory to whoever waits on a job
 * (`?wait=`, SSE streams). Status changes come on one shared channel; a job's streamed output
 * comes on its own channel, subscribed only while someone listens to it.
 */
export class JobEvents {
  readonly #subscriber: Redis;
  readonly #statusListeners = new Map<string, Set<Listener<JobEvent>>>();
  readonly #partialListeners = new Map<string, Set<Listener<PartialOutputMessage>>>();
  readonly #logger: Logger;

  private constructor(subscriber: Redis, logger: Logger) {
    this.#subscriber = subscriber;
    this.#logger = logger;
  }

  /** Subscribes on a dedicated connection (a subscribed connection can run nothing else). */
  static async start(options: { subscriber: Redis; logger: Logger }): Promise<JobEvents> {
    const events = new JobEvents(options.subscriber, options.logger);
    options.subscriber.on('message', (channel: string, message: string) => events.#dispatch(channel, message));
    await options.subscriber.subscribe(JOB_EVENTS_CHANNEL);
    return events;
  }

  /** Calls `listener` for every status change of the job until the returned function is called. */
  on(tenant: string, jobId: string, listener: Listener<JobEvent>): () => void {
    return add(this.#statusListeners, `${tenant}\u0000${jobId}`, listener);
  }

  /** Calls `listener` with the job's streamed output; resolves once the subscription is live. */
  async onPartial(tenant: string, jobId: string, listener: Listener<PartialOutputMessage>): Promise<() => void> {
    const channel = partialOutputChannel(tenant, jobId);
    const first = !this.#partialListeners.has(channel);
    const remove = add(this.#partialListeners, channel, listener);
    if (first) await this.#subscriber.subscribe(channel);
    return () => {
      remove();
      if (!this.#partialListeners.has(channel)) void this.#subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  #dispatch(channel: string, message: string): void {
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      this.#logger.warn({ channel }, 'ignored a malformed event');
      return;
    }
    if (channel === JOB_EVENTS_CHANNEL) {
      const status = event as JobEvent;
      notify(this.#statusListeners.get(`${status.tenant}\u0000${status.id}`), status);
    } else {
      notify(this.#partialListeners.get(channel), event as PartialOutputMessage);
    }
  }

  async close(): Promise<void> {
    this.#statusListeners.clear();
    this.#partialListeners.clear();
    await this.#subscriber.quit().catch(() => undefined);
  }
}

function add<T>(map: Map<string, Set<Listener<T>>>, key: string, listener: Listener<T>): () => void {
  let listeners = map.get(key);
  if (listeners === undefined) {
    listeners = new Set();
    map.set(key, listeners);
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) map.delete(key);
  };
}

function notify<T>(listeners: Set<Listener<T>> | undefined, event: T): void {
  if (listeners === undefined) return;
  for (const listener of [...listeners]) listener(event);
}
