import type { JobRecord } from '@llmq/core';
import type { BatchLineRef } from './batch-store.js';

/** One line of a batch's output or error file, in OpenAI's shape. */
export interface BatchOutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

const STATUS_OF_ERROR: Record<string, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  rate_limit: 429,
  quota_exceeded: 429,
  timeout: 504,
  overloaded: 503,
};

const errorBody = (message: string, type: string) => ({ error: { message, type, param: null, code: type } });

/**
 * Where a line goes once its job ended (or its body was refused): the output file for a
 * succeeded job, the error file for the rest. Null while the job has not ended.
 */
export function outputLineOf(
  line: BatchLineRef,
  record: JobRecord | null,
): { file: 'output' | 'error'; line: BatchOutputLine } | null {
  if ('problem' in line) {
    return {
      file: 'error',
      line: {
        id: `batch_req_${line.customId}`,
        custom_id: line.customId,
        response: { status_code: 400, request_id: '', body: errorBody(line.problem, 'invalid_request_error') },
        error: null,
      },
    };
  }
  const id = `batch_req_${line.jobId}`;
  if (record === null) {
    return {
      file: 'error',
      line: {
        id,
        custom_id: line.customId,
        response: null,
        error: { code: 'batch_expired', message: 'the job is no longer stored' },
      },
    };
  }
  if (record.status === 'succeeded') {
    return {
      file: 'output',
      line: {
        id,
        custom_id: line.customId,
        response: { status_code: 200, request_id: line.jobId, body: record.result },
        error: null,
      },
    };
  }
  if (record.status === 'canceled') {
    return {
      file: 'error',
      line: {
        id,
        custom_id: line.customId,
        response: null,
        error: { code: 'batch_cancelled', message: 'the batch was cancelled before this request ended' },
      },
    };
  }
  if (record.status === 'failed') {
    const type = record.error?.type ?? 'provider_error';
    return {
      file: 'error',
      line: {
        id,
        custom_id: line.customId,
        response: {
          status_code: record.error?.status ?? STATUS_OF_ERROR[type] ?? 500,
          request_id: line.jobId,
          body: errorBody(record.error?.message ?? 'the job failed', type),
        },
        error: null,
      },
    };
  }
  return null;
}
