import { BATCH_ID_PATTERN, batchCreateSchema, batchObjectSchema } from '../openai-compat/batches/batch-object.js';
import { batchListQuerySchema, batchListSchema } from '../openai-compat/batches/batch-routes.js';
import type { ApiRoute } from './api-route.js';
import { openAiError as error, openAiErrors } from './openai-compat-route-table.js';

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
      'Answers at once with a `validating` batch; the file is checked and its lines accepted as jobs of the caller in the background, in chunks, resumed by any later read if the process doing it stops. A file-level problem (a line that is not a JSON request, another method or url, a repeated custom_id) fails the batch with `errors`; a request body the job schema refuses fails only its line (error file), as do the lines the monthly budget refuses (402 in the error file).',
    tag: 'batches',
    auth: 'apiKey',
    body: { schema: batchCreateSchema, required: true },
    answers: {
      ...openAiErrors,
      200: batch('the batch, validating'),
      400: error('the body is invalid, or input_file_id names no batch input file of the caller'),
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
    answers: {
      ...openAiErrors,
      200: { description: 'a page of batches', json: batchListSchema },
      400: error('a bad query parameter'),
    },
  },
  {
    method: 'get',
    path: '/v1/batches/:id',
    summary: 'A batch, brought up to date with its jobs',
    description:
      "Each read starts the batch's outstanding work in the background unless it is running: checking up to 1,000 of the jobs not yet seen ended, writing the output and error files once none is left, canceling what is left past `expires_at` (`expired`).",
    tag: 'batches',
    auth: 'apiKey',
    patterns: batchId,
    answers: { ...openAiErrors, 200: batch('the batch'), 404: batchNotFound },
  },
  {
    method: 'post',
    path: '/v1/batches/:id/cancel',
    summary: "Cancel a batch's unfinished jobs",
    tag: 'batches',
    auth: 'apiKey',
    patterns: batchId,
    answers: {
      ...openAiErrors,
      200: batch('cancelling: its unfinished jobs are canceled in the background, then it is cancelled'),
      404: batchNotFound,
      409: error('the batch has already ended or is finalizing'),
    },
  },
];
