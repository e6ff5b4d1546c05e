import type { Redis } from 'ioredis';
import { tenantTag } from './job-keys.js';

/** Pub/sub channel of one job's streamed output. */
export function partialOutputChannel(tenant: string, jobId: string): string {
  return `llmq:partial:${tenant}:${jobId}`;
}

/**
 * One attempt's output so far. Each attempt has its own key, so a reader that finds the job on
 * attempt N never takes what attempt N-1 left for attempt N's text.
 */
export function partialOutputKey(tenant: string, jobId: string, attempt: number): string {
  return `${tenantTag(tenant)}:job:${jobId}:partial:${attempt}`;
}

/** One published piece of a job's output. `offset` is where `text` starts within the attempt's output. */
export interface PartialOutputMessage {
  attempt: number;
  offset: number;
  text: string;
}

export interface PartialOutputWriterOptions {
  redis: Redis;
  tenant: string;
  jobId: string;
  attempt: number;
  /** How often buffered text is flushed, ms. Default 100. */
  flushIntervalMs?: number;
  /** How long the partial text is kept after the last flush, ms. Default 1 hour. */
  ttlMs?: number;
}

/**
 * Buffers streamed text and, every flush interval, appends it to the job's partial-output key
 * and publishes it, so SSE clients see output while a long generation runs. A call that ends
 * within the first interval costs nothing extra.
 */
export class PartialOutputWriter {
  readonly #options: Required<PartialOutputWriterOptions>;
  #buffer = '';
  #offset = 0;
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<unknown> = Promise.resolve();

  constructor(options: PartialOutputWriterOptions) {
    this.#options = { flushIntervalMs: 100, ttlMs: 60 * 60 * 1000, ...options };
  }

  /** Starts a new attempt: the previous attempt's text is dropped. */
  async begin(): Promise<void> {
    const { redis, tenant, jobId, attempt } = this.#options;
    await redis.del(partialOutputKey(tenant, jobId, attempt - 1));
  }

  write(delta: string): void {
    this.#buffer += delta;
    this.#timer ??= setTimeout(() => this.#flush(), this.#options.flushIntervalMs);
  }

  /** Stops flushing; what is buffered is dropped (the job's result carries the whole text). */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pending.catch(() => undefined);
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#buffer === '') return;
    const { redis, tenant, jobId, attempt, ttlMs } = this.#options;
    const message: PartialOutputMessage = { attempt, offset: this.#offset, text: this.#buffer };
    this.#offset += this.#buffer.length;
    this.#buffer = '';
    const key = partialOutputKey(tenant, jobId, attempt);
    // Best effort: a lost flush only delays what an SSE client sees, never the result.
    this.#pending = redis
      .multi()
      .append(key, message.text)
      .pexpire(key, ttlMs)
      .publish(partialOutputChannel(tenant, jobId), JSON.stringify(message))
      .exec()
      .catch(() => undefined);
  }
}
