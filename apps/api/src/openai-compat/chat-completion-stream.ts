import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import {
  isEnded,
  partialOutputKey,
  type ChatCompletionResult,
  type JobRecord,
  type JobStore,
  type PartialOutputMessage,
} from '@llmq/core';
import type { JobEvents } from '../job-events.js';
import { noteJobEnd } from '../metrics/openai-metrics.js';
import { fromJobError } from './openai-error.js';

export interface ChatStreamOptions {
  request: Request;
  response: Response;
  events: JobEvents;
  store: JobStore;
  /** Reads the partial output of the attempt a job is on. */
  redis: Redis;
  tenant: string;
  jobId: string;
  /** The model as requested, named in every chunk. */
  model: string;
  /** `stream_options.include_usage`: a chunk with the usage and no choices before `[DONE]`. */
  includeUsage: boolean;
  /** Interval of `: keep-alive` comments while the job waits, ms. */
  keepAliveMs: number;
}

/**
 * Answers a chat job as OpenAI's `chat.completion.chunk` Server-Sent Events: the text as the
 * worker streams it (the job's partial output), the rest of the answer and its tool calls when the
 * job ends, a chunk carrying `finish_reason`, the usage when asked, and `data: [DONE]`. A job that
 * fails sends an `error` event, which the SDKs raise. A retry that restarts the text after some was
 * sent continues from where the client is, in the new attempt's text.
 */
export async function streamChatCompletion(options: ChatStreamOptions): Promise<void> {
  const { request, response, events, store, redis, tenant, jobId } = options;
  response.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  response.flushHeaders();

  const created = Math.floor(Date.now() / 1000);
  let closed = false;
  const cleanups: Array<() => void> = [];
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const close = () => {
    if (closed) return;
    closed = true;
    for (const cleanup of cleanups) cleanup();
    if (!response.writableEnded) response.end();
    finished();
  };
  response.once('close', close);
  const write = (text: string) => {
    if (!closed && !response.writableEnded) response.write(text);
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    write(
      `data: ${JSON.stringify({
        id: `chatcmpl-${jobId}`,
        object: 'chat.completion.chunk',
        created,
        model: options.model,
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      })}\n\n`,
    );
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs);
  cleanups.push(() => clearInterval(keepAlive));

  /** Where the client is: which attempt's text, and how far into it. */
  const position = { attempt: 0, offset: 0 };
  const forward = (message: PartialOutputMessage) => {
    if (message.attempt < position.attempt) return;
    if (message.attempt > position.attempt) position.attempt = message.attempt;
    const end = message.offset + message.text.length;
    if (end <= position.offset) return;
    const text = message.text.slice(Math.max(0, position.offset - message.offset));
    position.offset = end;
    chunk({ content: text });
  };

  const finish = (record: JobRecord) => {
    noteJobEnd(response, record.status);
    const result = record.status === 'succeeded' ? (record.result as ChatCompletionResult | null) : null;
    const choice = result?.choices[0];
    if (result === null || choice === undefined) {
      write(`data: ${JSON.stringify(fromJobError(record.error).body)}\n\n`);
      return close();
    }
    const content = choice.message.content ?? '';
    // The text the client lacks: all of it unless it followed the attempt that answered.
    const sent = position.attempt === record.attempts ? position.offset : 0;
    if (content.length > sent) chunk({ content: content.slice(sent) });
    if (choice.message.tool_calls?.length) {
      chunk({ tool_calls: choice.message.tool_calls.map((call, index) => ({ index, ...call })) });
    }
    chunk({}, choice.finish_reason);
    if (options.includeUsage) {
      write(
        `data: ${JSON.stringify({ id: `chatcmpl-${jobId}`, object: 'chat.completion.chunk', created, model: options.model, choices: [], usage: result.usage })}\n\n`,
      );
    }
    write('data: [DONE]\n\n');
    close();
  };

  const refresh = async () => {
    const record = await store.get(tenant, jobId);
    if (record === null) return close();
    if (isEnded(record.status)) return finish(record);
    if (record.status === 'running') {
      const text = (await redis.get(partialOutputKey(tenant, jobId, record.attempts))) ?? '';
      if (text !== '') forward({ attempt: record.attempts, offset: 0, text });
    }
  };
  // One step at a time, in arrival order, so no text is sent twice.
  let steps = Promise.resolve();
  const step = (work: () => void | Promise<void>) => {
    steps = steps
      .then(async () => {
        if (!closed) await work();
      })
      .catch((error: unknown) => {
        request.log.warn({ err: error, jobId }, 'chat completion stream ended early');
        close();
      });
  };

  chunk({ role: 'assistant', content: '' });
  cleanups.push(events.on(tenant, jobId, () => step(refresh)));
  try {
    const off = await events.onPartial(tenant, jobId, (message) => step(() => forward(message)));
    if (closed) off();
    else cleanups.push(off);
  } catch (error) {
    request.log.warn({ err: error, jobId }, 'chat completion stream could not subscribe');
    close();
  }
  step(refresh);
  // A status message lost with a subscriber reconnect costs at most one interval.
  const reread = setInterval(() => step(refresh), 5_000);
  cleanups.push(() => clearInterval(reread));
  await done;
}
