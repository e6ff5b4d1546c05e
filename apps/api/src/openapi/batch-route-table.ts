import { BATCH_ID_PATTERN, batchCreateSchema, batchObjectSchema } from '../openai-compat/batches/batch-object.js';
import { batchListQuerySchema, batchListSchema } from '../openai-compat/batches/batch-routes.js';
import { errorAnswer as error, type ApiRoute } from './api-route.js';

const batchNotFound = error(
  "no such batch (another tenant's batch, or an id that is not a batch id, answers the same)",
);
const batchId = { id: BATCH_ID_PATTERN };
const batch = (description: string) => ({ description, json: batchObjectSchema });

/** OpenAI's Batch API: each line of an input file becomes a job. */
export const BATCH_ROUTES: ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/batches',
    summary: 'Run the requests of an input file as jobs',
    description:
      'The file is checked at once: a file-level problem (a line that is not a JSON request, another method or url, a repeated custom_id) answers a `failed` batch with `errors`; a request body the job schema refuses fails only its line (error file). Every other line becomes a job of the caller, all or none.',
    tag: 'batches',
    auth: 'apiKey',
    body: { schema: batchCreateSchema, required: true },
    answers: {
      200: batch('the batch, in_progress (or failed at validation)'),
      400: error('the body is invalid, or input_file_id names no batch input file of the caller'),
      402: error("the jobs' estimated cost does not fit in the tenant's monthly budget"),
      413: error('the body is larger than LLMQ_MAX_BODY_BYTES'),
      415: error('the body is not JSON'),
    },
  },
  {
    method: 'get',
    path: '/v1/batches',
    summary: "The caller's batches, newest first",
    tag: 'batches',
    auth: 'apiKey',
    query: batchListQuerySchema,
    patterns: { after: BATCH_ID_PATTERN },
    answers: { 200: { description: 'a page of batches', json: batchListSchema }, 400: error('a bad query parameter') },
  },
  {
    method: 'get',
    path: '/v1/batches/:id',
    summary: 'A batch, brought up to date with its jobs',
    description:
      'Each read checks up to 1,000 of the jobs not yet seen ended; the read that finds none left writes the output and error files and completes the batch.',
    tag: 'batches',
    auth: 'apiKey',
    patterns: batchId,
    answers: { 200: batch('the batch'), 404: batchNotFound },
  },
  {
    method: 'post',
    path: '/v1/batches/:id/cancel',
    summary: "Cancel a batch's unfinished jobs",
    tag: 'batches',
    auth: 'apiKey',
    patterns: batchId,
    answers: {
      200: batch('cancelling, or cancelled once every job has ended'),
      404: batchNotFound,
      409: error('the batch has already ended'),
    },
  },
];
