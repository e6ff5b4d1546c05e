import { describe, expect, it } from 'vitest';
import { fromJobError } from './openai-error.js';

describe('fromJobError', () => {
  it.each([
    ['invalid_request', 400, 'invalid_request_error'],
    ['canceled', 409, 'invalid_request_error'],
    ['timeout', 504, 'server_error'],
    ['provider_error', 502, 'server_error'],
    ['overloaded', 502, 'server_error'],
    ['internal', 502, 'server_error'],
  ] as const)('a job failed with %s answers %i %s, llmq type in code, no SDK retry', (type, status, openAiType) => {
    const error = fromJobError({ type, message: 'it failed' });
    expect(error.status).toBe(status);
    expect(error.body).toEqual({ error: { message: 'it failed', type: openAiType, param: null, code: type } });
    expect(error.options.headers).toEqual({ 'x-should-retry': 'false' });
  });

  it('a failed job without an error still answers a 502 naming llmq', () => {
    expect(fromJobError(null)).toMatchObject({ status: 502, body: { error: { code: 'internal' } } });
  });
});
