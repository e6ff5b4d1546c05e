import { describe, expect, it } from 'vitest';
import { statsPath } from './batch-routing.js';

describe('statsPath', () => {
  it.each([
    ['/v1/files', '/v1/files'],
    ['/v1/files/file-abc', '/v1/files/{id}'],
    ['/v1/files/file-abc/content', '/v1/files/{id}/content'],
    ['/v1/batches/batch_1/cancel', '/v1/batches/{id}/cancel'],
    ['/v1/messages/batches', '/v1/messages/batches'],
    ['/v1/messages/batches/msgbatch_1/results', '/v1/messages/batches/{id}/results'],
    ['/v1beta/batches/abc:cancel', '/v1beta/batches/{id}:cancel'],
    ['/v1beta/models/gemini-2.5-flash:batchGenerateContent', '/v1beta/models/gemini-2.5-flash:batchGenerateContent'],
  ])('records %s as %s', (pathname, expected) => {
    expect(statsPath(pathname)).toBe(expected);
  });
});
