import { describe, expect, it } from 'vitest';
import { createJobSubmissionSchema, createModelCatalog, llmqConfigSchema } from '@llmq/core';
import { MAX_FILE_BYTES, MAX_FILE_LINES } from './batch-file-upload.js';
import { readBatchLines } from './batch-lines.js';

const submissionSchema = createJobSubmissionSchema(createModelCatalog(llmqConfigSchema.parse({})));
const line = (customId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    ...extra,
  });
const read = (lines: string[]) =>
  readBatchLines({ content: Buffer.from(lines.join('\n')), endpoint: '/v1/chat/completions', submissionSchema });

describe('readBatchLines', () => {
  it('turns each request line into a chat submission, skipping blank lines', async () => {
    const result = await read([line('a'), '', '   ', line('b')]);
    expect(result.errors).toEqual([]);
    expect(result.lines.map((each) => [each.line, each.customId, 'submission' in each])).toEqual([
      [1, 'a', true],
      [4, 'b', true],
    ]);
  });

  it('fails only the line whose body the submission schema refuses', async () => {
    const result = await read([line('ok'), line('bad', { body: { model: 'openai/gpt-4o-mini' } })]);
    expect(result.errors).toEqual([]);
    expect(result.lines[1]).toMatchObject({ customId: 'bad', problem: expect.stringContaining('messages') });
  });

  it('names file-level problems with their line and code', async () => {
    const result = await read([
      '[1]',
      line('x', { custom_id: 7 }),
      line('dup'),
      line('dup'),
      line('get', { method: 'GET' }),
      line('other', { url: '/v1/embeddings' }),
    ]);
    expect(result.errors.map((error) => [error.code, error.line, error.param])).toEqual([
      ['invalid_request', 1, null],
      ['missing_required_parameter', 2, 'custom_id'],
      ['duplicate_custom_id', 4, 'custom_id'],
      ['invalid_method', 5, 'method'],
      ['mismatched_endpoint', 6, 'url'],
    ]);
  });

  it(`reads the largest file accepted (${MAX_FILE_LINES} lines, ${MAX_FILE_BYTES} bytes) while other work gets turns`, async () => {
    const lines = Array.from({ length: MAX_FILE_LINES }, (_, index) => line(`r${index}`));
    const padding = MAX_FILE_BYTES - Buffer.byteLength(lines.join('\n'));
    lines[0] = line('r0', { pad: 'x'.repeat(padding - ',"pad":""'.length) });
    const content = Buffer.from(lines.join('\n'));
    expect(content.length).toBe(MAX_FILE_BYTES);
    let turnsTaken = 0;
    const ticker = setInterval(() => (turnsTaken += 1), 0);
    const result = await readBatchLines({ content, endpoint: '/v1/chat/completions', submissionSchema });
    clearInterval(ticker);
    expect(result.errors).toEqual([]);
    expect(result.lines).toHaveLength(MAX_FILE_LINES);
    // The reading paused for the event loop: a timer scheduled alongside it ran many times.
    expect(turnsTaken).toBeGreaterThan(10);
  }, 120_000);
});
