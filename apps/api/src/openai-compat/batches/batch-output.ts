import type { JobRecord } from '@llmq/core';
import type { BatchEnding, BatchStopReason } from './batch-progress-fields.js';
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

/** What else decides a line's output: its refusal at acceptance, or why acceptance stopped before it, and the batch's ending. */
export interface OutputLineContext {
  /** The job checks refused the line at acceptance (a 4xx), with this message. */
  problem?: string;
  /** Acceptance stopped at or before this line; its job was never made unless its record exists. */
  stopped?: { reason: BatchStopReason; message: string };
  /** The batch is being cancelled or expired: a canceled job's line says which. */
  ending?: BatchEnding | null;
}

const refusedLine = (id: string, customId: string, status: number, message: string, type: string, code: string) => ({
  file: 'error' as const,
  line: {
    id,
    custom_id: customId,
    response: { status_code: status, request_id: '', body: { error: { message, type, param: null, code } } },
    error: null,
  },
});

const endedLine = (id: string, customId: string, ending: BatchEnding) => ({
  file: 'error' as const,
  line: {
    id,
    custom_id: customId,
    response: null,
    error:
      ending === 'expired'
        ? { code: 'batch_expired', message: 'the batch expired before this request ended' }
        : { code: 'batch_cancelled', message: 'the batch was cancelled before this request ended' },
  },
});

/**
 * Where a line goes once its job ended (or its body was refused): the output file for a
 * succeeded job, the error file for the rest. Null while the job has not ended.
 */
export function outputLineOf(
  line: BatchLineRef,
  record: JobRecord | null,
  context: OutputLineContext = {},
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
  if (context.problem !== undefined) {
    return refusedLine(
      `batch_req_${line.jobId}`,
      line.customId,
      400,
      context.problem,
      'invalid_request_error',
      'invalid_request',
    );
  }
  if (record === null && context.stopped !== undefined) {
    const { reason, message } = context.stopped;
    if (reason === 'budget_exceeded') {
      return refusedLine(`batch_req_${line.jobId}`, line.customId, 402, message, 'insufficient_quota', reason);
    }
    return endedLine(`batch_req_${line.jobId}`, line.customId, reason);
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
  if (record.status === 'canceled') return endedLine(id, line.customId, context.ending ?? 'cancelled');
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
