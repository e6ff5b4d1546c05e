import type { z } from 'zod';
import { formatValidationError, type JobSubmission } from '@llmq/core';
import type { BatchError } from './batch-object.js';

/** One request line of an input file, read and checked against the deployment's submission schema. */
export type BatchLine =
  { line: number; customId: string; submission: JobSubmission } | { line: number; customId: string; problem: string };

/** Lines read between pauses for the event loop. */
const LINES_PER_TURN = 200;
const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Reads an input file's lines. A file-level problem (a line that is not a JSON request object,
 * another method or endpoint, a repeated custom_id) fails the batch: `errors`. A body that the
 * submission schema refuses fails only its line: `problem`.
 */
export async function readBatchLines(options: {
  content: Buffer;
  endpoint: '/v1/chat/completions' | '/v1/embeddings';
  submissionSchema: z.ZodType<JobSubmission>;
}): Promise<{ lines: BatchLine[]; errors: BatchError[] }> {
  const { content, endpoint } = options;
  const lines: BatchLine[] = [];
  const errors: BatchError[] = [];
  const seen = new Set<string>();
  const type = endpoint === '/v1/embeddings' ? 'embedding' : 'chat';
  let start = 0;
  let number = 0;
  while (start < content.length && errors.length < 100) {
    let end = content.indexOf(0x0a, start);
    if (end === -1) end = content.length;
    const text = content.toString('utf8', start, end).trim();
    start = end + 1;
    number += 1;
    if (number % LINES_PER_TURN === 0) await pause();
    if (text === '') continue;
    const fail = (code: string, message: string, param: string | null = null) =>
      errors.push({ code, message, param, line: number });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      fail('invalid_json_line', `line ${number} is not JSON`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail('invalid_request', `line ${number} is not a JSON object`);
      continue;
    }
    const request = value as Record<string, unknown>;
    if (typeof request.custom_id !== 'string' || request.custom_id === '') {
      fail('missing_required_parameter', `line ${number}: custom_id must be a non-empty string`, 'custom_id');
      continue;
    }
    if (seen.has(request.custom_id)) {
      fail(
        'duplicate_custom_id',
        `line ${number}: custom_id "${request.custom_id}" is used more than once`,
        'custom_id',
      );
      continue;
    }
    seen.add(request.custom_id);
    if (request.method !== 'POST') {
      fail('invalid_method', `line ${number}: method must be "POST"`, 'method');
      continue;
    }
    if (request.url !== endpoint) {
      fail('mismatched_endpoint', `line ${number}: url must be the batch's endpoint ${endpoint}`, 'url');
      continue;
    }
    const parsed = options.submissionSchema.safeParse({ type, request: request.body });
    lines.push(
      parsed.success
        ? { line: number, customId: request.custom_id, submission: parsed.data }
        : { line: number, customId: request.custom_id, problem: formatValidationError(parsed.error) },
    );
  }
  return { lines, errors };
}
