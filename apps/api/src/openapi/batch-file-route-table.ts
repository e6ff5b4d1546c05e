import { batchFileSchema, FILE_ID_PATTERN } from '../openai-compat/batches/batch-file-store.js';
import { fileDeletedSchema, fileListQuerySchema, fileListSchema } from '../openai-compat/batches/batch-file-routes.js';
import { MAX_FILE_BYTES, MAX_FILE_LINES } from '../openai-compat/batches/batch-file-upload.js';
import type { ApiRoute } from './api-route.js';
import { openAiError as error, openAiErrors } from './openai-compat-route-table.js';

const fileNotFound = error("no such file (another tenant's file, or an id that is not a file id, answers the same)");
const fileId = { id: FILE_ID_PATTERN };

/** OpenAI's Files API (batch input and output files). */
export const BATCH_FILE_ROUTES: ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/files',
    summary: 'Upload a batch input file (JSONL, one request per line)',
    description: `At most ${MAX_FILE_BYTES} bytes and ${MAX_FILE_LINES} requests. Kept as long as jobs are (LLMQ_RETENTION_SECONDS). Its lines are checked when a batch is created from it.`,
    tag: 'batches',
    auth: 'apiKey',
    body: {
      multipart: {
        type: 'object',
        properties: {
          file: { type: 'string', contentMediaType: 'application/octet-stream', description: 'the JSONL file' },
          purpose: { type: 'string', enum: ['batch'] },
        },
        required: ['file', 'purpose'],
      },
    },
    answers: {
      ...openAiErrors,
      200: { description: 'the file', json: batchFileSchema },
      400: error(
        'purpose is not "batch", the file is missing or empty, has too many lines, or the body is not multipart',
      ),
      413: error(`the file is larger than ${MAX_FILE_BYTES} bytes`),
      415: error('the body is not multipart/form-data'),
    },
  },
  {
    method: 'get',
    path: '/v1/files',
    summary: "The caller's files, newest first unless order=asc",
    tag: 'batches',
    auth: 'apiKey',
    query: fileListQuerySchema,
    patterns: { after: FILE_ID_PATTERN },
    answers: {
      ...openAiErrors,
      200: { description: 'a page of files', json: fileListSchema },
      400: error('a bad query parameter'),
    },
  },
  {
    method: 'get',
    path: '/v1/files/:id',
    summary: 'A file',
    tag: 'batches',
    auth: 'apiKey',
    patterns: fileId,
    answers: { ...openAiErrors, 200: { description: 'the file', json: batchFileSchema }, 404: fileNotFound },
  },
  {
    method: 'get',
    path: '/v1/files/:id/content',
    summary: "A file's content, as uploaded or written (JSONL)",
    tag: 'batches',
    auth: 'apiKey',
    patterns: fileId,
    answers: {
      ...openAiErrors,
      200: { description: 'the bytes of the file', media: 'application/octet-stream' },
      404: fileNotFound,
    },
  },
  {
    method: 'delete',
    path: '/v1/files/:id',
    summary: 'Delete a file',
    tag: 'batches',
    auth: 'apiKey',
    patterns: fileId,
    answers: { ...openAiErrors, 200: { description: 'deleted', json: fileDeletedSchema }, 404: fileNotFound },
  },
];
