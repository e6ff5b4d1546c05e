import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Requests one batch input file may hold, as OpenAI documents. */
export const MAX_OPENAI_BATCH_REQUESTS = 50_000;
/** Bytes one batch input file may hold, as OpenAI documents (200 MB). */
export const MAX_OPENAI_BATCH_FILE_BYTES = 200 * 1024 * 1024;
/** Lines, or bytes, parsed between yields to the event loop. */
const LINES_PER_CHUNK = 1000;
const BYTES_PER_CHUNK = 8 * 1024 * 1024;
/**
 * Bytes of one line at most: the simulator's own request-body cap, so no single parse holds the
 * event loop for long. OpenAI documents no per-line cap; the error code is the simulator's.
 */
export const MAX_OPENAI_BATCH_LINE_BYTES = 32 * 1024 * 1024;
/** Errors reported for one file, at most. */
const MAX_REPORTED_ERRORS = 100;

/** One entry of a failed batch's `errors.data`, in OpenAI's shape. */
export interface OpenAIBatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

/** One validated request line. */
export interface OpenAIBatchLine {
  customId: string;
  body: Record<string, unknown>;
  model: string;
  /** Where the line's JSON sits in the file, for fault rules with `contains`. */
  start: number;
  end: number;
}

export type OpenAIBatchInput =
  { ok: true; lines: OpenAIBatchLine[]; model: string } | { ok: false; errors: OpenAIBatchError[] };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkLine(value: unknown, endpoint: string): Omit<OpenAIBatchError, 'line'> | undefined {
  const missing = (param: string) => ({
    code: 'missing_required_parameter',
    message: `Missing required parameter: '${param}'.`,
    param,
  });
  if (!isObject(value)) return { code: 'invalid_json_line', message: 'This line is not a JSON object.', param: null };
  if (typeof value.custom_id !== 'string' || value.custom_id === '') return missing('custom_id');
  if (value.method === undefined) return missing('method');
  if (value.method !== 'POST') {
    return {
      code: 'invalid_value',
      message: `Invalid method '${String(value.method)}': only POST is supported.`,
      param: 'method',
    };
  }
  if (value.url === undefined) return missing('url');
  if (value.url !== endpoint) {
    return {
      code: 'url_mismatch',
      message: `The URL provided for this request does not match the batch endpoint '${endpoint}'.`,
      param: 'url',
    };
  }
  if (!isObject(value.body)) return missing('body');
  if (typeof value.body.model !== 'string' || value.body.model === '') return missing('body.model');
  return undefined;
}

/**
 * Validates a batch input file as OpenAI does while a batch is `validating`: one JSON request per
 * line, unique `custom_id`s, the batch's endpoint, one model, 1 to 50,000 requests. Parses in
 * chunks that yield to the event loop; `stopped` is polled between chunks (a cancel).
 */
export async function readOpenAIBatchInput(
  content: Buffer,
  endpoint: string,
  stopped: () => boolean,
): Promise<OpenAIBatchInput | undefined> {
  const lines: OpenAIBatchLine[] = [];
  const errors: OpenAIBatchError[] = [];
  const customIds = new Set<string>();
  let model: string | undefined;
  let lineNumber = 0;
  let start = 0;
  let chunkStart = 0;
  while (start < content.length && errors.length < MAX_REPORTED_ERRORS) {
    if ((lineNumber % LINES_PER_CHUNK === 0 && lineNumber > 0) || start - chunkStart > BYTES_PER_CHUNK) {
      chunkStart = start;
      await yieldToEventLoop();
      if (stopped()) return undefined;
    }
    const newline = content.indexOf(10, start);
    const end = newline === -1 ? content.length : newline;
    lineNumber += 1;
    if (end - start > MAX_OPENAI_BATCH_LINE_BYTES) {
      const message = `This line is longer than ${MAX_OPENAI_BATCH_LINE_BYTES} bytes.`;
      errors.push({ code: 'line_too_large', message, param: null, line: lineNumber });
      start = end + 1;
      continue;
    }
    const text = content.toString('utf8', start, end).trim();
    const lineStart = start;
    start = end + 1;
    if (text === '') continue;
    if (lines.length >= MAX_OPENAI_BATCH_REQUESTS) {
      const message = `The batch input file contains more than the maximum of ${MAX_OPENAI_BATCH_REQUESTS} requests.`;
      return { ok: false, errors: [{ code: 'too_many_tasks', message, param: null, line: null }] };
    }
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      errors.push({
        code: 'invalid_json_line',
        message: 'This line is not parseable as valid JSON.',
        param: null,
        line: lineNumber,
      });
      continue;
    }
    const problem = checkLine(value, endpoint);
    if (problem !== undefined || !isObject(value) || !isObject(value.body)) {
      if (problem !== undefined) errors.push({ ...problem, line: lineNumber });
      continue;
    }
    const customId = String(value.custom_id);
    const lineModel = String(value.body.model);
    if (customIds.has(customId)) {
      errors.push({
        code: 'duplicate_custom_id',
        message:
          'The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.',
        param: 'custom_id',
        line: lineNumber,
      });
      continue;
    }
    model ??= lineModel;
    if (lineModel !== model) {
      errors.push({
        code: 'model_mismatch',
        message: `The model '${lineModel}' of this request does not match the model '${model}' of the batch's other requests.`,
        param: 'body.model',
        line: lineNumber,
      });
      continue;
    }
    customIds.add(customId);
    lines.push({ customId, body: value.body, model: lineModel, start: lineStart, end });
  }
  if (errors.length > 0) return { ok: false, errors };
  if (lines.length === 0 || model === undefined) {
    return {
      ok: false,
      errors: [{ code: 'empty_file', message: 'The batch input file is empty.', param: null, line: null }],
    };
  }
  return { ok: true, lines, model };
}
