import { Router, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { ChatCompletionResult, EmbeddingResult, JobStore, JobSubmission, ModelCatalog } from '@llmq/core';
import { tenantOf } from '../auth.js';
import type { JobAcceptor } from '../job-acceptance.js';
import type { JobEvents } from '../job-events.js';
import { noteJobEnd, type OpenAiMetrics } from '../metrics/openai-metrics.js';
import { streamChatCompletion } from './chat-completion-stream.js';
import { encodeEmbeddingResult } from './embedding-encoding.js';
import { waitForJobEnd } from './job-end-wait.js';
import { describeModel, listModels } from './model-list.js';
import { fromJobError, OpenAiError } from './openai-error.js';
import { chatSubmission, embeddingSubmission, parseSubmission } from './openai-request.js';

/** The paths that speak OpenAI's API, errors included. */
export const OPENAI_COMPAT_PATHS = ['/v1/chat/completions', '/v1/embeddings', '/v1/models', '/v1/files', '/v1/batches'];

/** The response header naming the job behind an answer: `GET /v1/jobs/{id}` reads it after a dropped connection. */
export const JOB_ID_HEADER = 'llmq-job-id';

export interface OpenAiCompatRoutesOptions {
  accept: JobAcceptor;
  /** The deployment's `POST /v1/jobs` schema: the same checks apply. */
  submissionSchema: z.ZodType<JobSubmission>;
  store: JobStore;
  events: JobEvents;
  redis: Redis;
  catalog: ModelCatalog;
  /** The models the config's `limits` name, listed by `GET /v1/models`. Default: none. */
  limitedModels?: readonly string[];
  /** Interval of `: keep-alive` comments on a stream, ms. Default 15 s. */
  keepAliveMs?: number;
  /** Counts the job routes' requests and outcomes. */
  metrics: OpenAiMetrics;
}

/**
 * OpenAI's API over llmq jobs: `POST /v1/chat/completions` and `POST /v1/embeddings` submit a job
 * and answer when it ends (or stream it), `GET /v1/models` lists what the deployment routes.
 */
export function openAiCompatRoutes(options: OpenAiCompatRoutesOptions): Router {
  const { store, events, catalog } = options;
  const router = Router();

  const requireJson = (request: Request) => {
    if (!request.is('application/json')) {
      throw new OpenAiError(
        415,
        'invalid_request_error',
        'send the request as JSON with "Content-Type: application/json"',
      );
    }
  };

  /** Accepts one job and names it in the answer's header. */
  const submit = async (request: Request, response: Response, submission: unknown) => {
    const tenant = tenantOf(request);
    const parsed = parseSubmission(options.submissionSchema, submission);
    const [record] = await options.accept(tenant, [parsed]);
    if (record === undefined)
      throw new OpenAiError(503, 'server_error', 'the job could not be accepted', { code: 'unavailable' });
    response.locals.jobId = record.id;
    response.set(JOB_ID_HEADER, record.id);
    return { tenant, jobId: record.id };
  };

  router.post('/v1/chat/completions', options.metrics.measure('chat'), async (request, response) => {
    requireJson(request);
    const { submission, answer } = chatSubmission(catalog, request.body);
    const { tenant, jobId } = await submit(request, response, submission);
    const model = (request.body as { model: string }).model;
    if (answer.stream) {
      await streamChatCompletion({
        request,
        response,
        events,
        store,
        redis: options.redis,
        tenant,
        jobId,
        model,
        includeUsage: answer.includeUsage,
        keepAliveMs: options.keepAliveMs ?? 15_000,
      });
      return;
    }
    const record = await waitForJobEnd({ events, store, tenant, jobId, request });
    // The client left: the job runs on, at /v1/jobs/{id}.
    if (record === null) return;
    noteJobEnd(response, record.status);
    if (record.status !== 'succeeded' || record.result === null) throw fromJobError(record.error);
    response.json(record.result as ChatCompletionResult);
  });

  router.post('/v1/embeddings', options.metrics.measure('embeddings'), async (request, response) => {
    requireJson(request);
    const { submission, encoding } = embeddingSubmission(catalog, request.body);
    const { tenant, jobId } = await submit(request, response, submission);
    const record = await waitForJobEnd({ events, store, tenant, jobId, request });
    if (record === null) return;
    noteJobEnd(response, record.status);
    if (record.status !== 'succeeded' || record.result === null) throw fromJobError(record.error);
    response.json(encodeEmbeddingResult(record.result as EmbeddingResult, encoding));
  });

  router.get('/v1/models', (_request, response) => {
    response.json({ object: 'list', data: listModels(catalog, options.limitedModels ?? []) });
  });

  const retrieve = (id: string, response: Response) => {
    const model = describeModel(catalog, id);
    if (model === null) {
      throw new OpenAiError(404, 'invalid_request_error', `The model \`${id}\` does not exist`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
    response.json(model);
  };
  // Ids hold a `/` (`openai/gpt-4o-mini`): the Node SDK percent-encodes it (one segment), other clients send it as is.
  router.get('/v1/models/:id', (request, response) => retrieve(request.params.id, response));
  router.get('/v1/models/:provider/:model', (request, response) =>
    retrieve(`${request.params.provider}/${request.params.model}`, response),
  );

  return router;
}
