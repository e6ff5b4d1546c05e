import type { RequestHandler, Response } from 'express';
import onHeaders from 'on-headers';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobStatus } from '@llmq/core';

/** What a request to an OpenAI-compatible job route asked for. */
export type OpenAiRouteKind = 'chat' | 'chat_stream' | 'embeddings';

/**
 * How a request ended for its caller: its job's end, the client leaving before it, or
 * `rejected` (no job was made: a bad body, an unknown model, a budget refusal).
 */
export type OpenAiOutcome = 'succeeded' | 'failed' | 'canceled' | 'client_gone' | 'rejected';

/** The `model` label of a name the deployment does not list. */
export const UNKNOWN_MODEL = 'unknown';

/** Where a route notes the end of the job its answer reports (see `noteJobEnd`). */
const JOB_END = 'openAiJobEnd';

/** Tells the request's metrics how its job ended; call it before the answer is written. */
export function noteJobEnd(response: Response, status: JobStatus): void {
  response.locals[JOB_END] = status;
}

function outcomeOf(response: Response): OpenAiOutcome {
  if (typeof response.locals.jobId !== 'string') return 'rejected';
  const end: unknown = response.locals[JOB_END];
  if (end === 'succeeded' || end === 'failed' || end === 'canceled') return end;
  // A job and no end noted: the answer was cut by llmq (an error body, a stream stopped) or the client left.
  return response.writableFinished ? 'failed' : 'client_gone';
}

export interface OpenAiMetricsOptions {
  registry: Registry;
  /**
   * The names the `model` label keeps: the deployment's aliases and the models it names (the list
   * `GET /v1/models` answers). Any other name a caller sends is counted as `unknown`.
   */
  models: Iterable<string>;
}

/**
 * Metrics of `POST /v1/chat/completions` and `POST /v1/embeddings`: requests by kind, model and
 * outcome, how long callers held their connection for their job, and the chat streams open now.
 * Everything is counted when the answer ends, from what the route noted on the response.
 */
export class OpenAiMetrics {
  readonly requests: Counter<'route' | 'model' | 'outcome'>;
  readonly waited: Histogram<'route' | 'outcome'>;
  readonly streamsOpen: Gauge;
  readonly #models: ReadonlySet<string>;

  constructor(options: OpenAiMetricsOptions) {
    const registers = [options.registry];
    this.#models = new Set(options.models);
    this.requests = new Counter({
      name: 'llmq_openai_requests_total',
      help: 'Requests to the OpenAI-compatible job routes by kind (chat, chat_stream, embeddings), model as requested (unknown when the deployment does not list it) and outcome',
      labelNames: ['route', 'model', 'outcome'],
      registers,
    });
    this.waited = new Histogram({
      name: 'llmq_openai_wait_seconds',
      help: 'Time callers of the OpenAI-compatible job routes held their request for their job: from the request to its answer or stream end, or to the client leaving; requests refused before a job are not observed',
      labelNames: ['route', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.streamsOpen = new Gauge({
      name: 'llmq_openai_streams_open',
      help: 'chat.completion.chunk streams this API process is sending now',
      registers,
    });
  }

  /** The `model` label of a requested name. */
  modelLabel(model: unknown): string {
    return typeof model === 'string' && this.#models.has(model) ? model : UNKNOWN_MODEL;
  }

  /** Middleware in front of a job route; `chat` is counted as `chat_stream` when the body asks for a stream. */
  measure(kind: 'chat' | 'embeddings'): RequestHandler {
    return (request, response, next) => {
      const body = (request.body ?? {}) as { model?: unknown; stream?: unknown };
      const route: OpenAiRouteKind = kind === 'chat' && body.stream === true ? 'chat_stream' : kind;
      const model = this.modelLabel(body.model);
      const started = performance.now();
      let streaming = false;
      onHeaders(response, () => {
        streaming = route === 'chat_stream' && response.statusCode === 200;
        if (streaming) this.streamsOpen.inc();
      });
      response.once('close', () => {
        if (streaming) this.streamsOpen.dec();
        const outcome = outcomeOf(response);
        this.requests.inc({ route, model, outcome });
        if (outcome !== 'rejected') this.waited.observe({ route, outcome }, (performance.now() - started) / 1000);
      });
      next();
    };
  }
}
