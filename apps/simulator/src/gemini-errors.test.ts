import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator, TEST_API_KEY } from './__fixtures__/running-simulator.js';

let running: RunningSimulator;
beforeAll(async () => {
  running = await startSimulator();
});
afterAll(() => running.close());
beforeEach(() => {
  running.simulator.reset();
  running.simulator.configure({ apiKeys: null, limits: null });
});

const MODEL = 'gemini-2.5-flash';
const GENERATE = `/v1beta/models/${MODEL}:generateContent`;
const body = { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] };

interface GoogleError {
  error: { code: number; message: string; status: string; details?: Array<Record<string, unknown>> };
}

async function post(
  path: string,
  payload: unknown,
  headers: Record<string, string> = { 'x-goog-api-key': TEST_API_KEY },
): Promise<{ status: number; body: GoogleError }> {
  const response = await fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as GoogleError };
}

function detail(error: GoogleError, type: string): Record<string, unknown> | undefined {
  return error.error.details?.find((item) => item['@type'] === `type.googleapis.com/google.rpc.${type}`);
}

describe('Gemini authentication', () => {
  it('answers 403 PERMISSION_DENIED without a key, as Gemini does', async () => {
    const answer = await post(GENERATE, body, {});
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    expect(answer.body.error.message).toContain('unregistered callers');
  });

  it('answers a wrong key with 400 API_KEY_INVALID, and takes the key from ?key= too', async () => {
    running.simulator.configure({ apiKeys: ['good-key'] });
    const wrong = await post(GENERATE, body, { 'x-goog-api-key': 'wrong-secret-key' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.status).toBe('INVALID_ARGUMENT');
    expect(detail(wrong.body, 'ErrorInfo')).toMatchObject({ reason: 'API_KEY_INVALID' });
    expect(JSON.stringify(wrong.body)).not.toContain('wrong-secret');
    const viaQuery = await post(`${GENERATE}?key=good-key`, body, {});
    expect(viaQuery.status).toBe(200);
  });
});

describe('Gemini request validation', () => {
  it.each([
    ['an unknown field', { ...body, temprature: 1 }, 'Unknown name "temprature"'],
    ['an unknown generationConfig field', { ...body, generationConfig: { maxTokens: 5 } }, "at 'generation_config'"],
    ['empty contents', { contents: [] }, 'contents is not specified'],
    ['a bad role', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, 'valid role: user, model'],
    ['empty parts', { contents: [{ role: 'user', parts: [] }] }, 'contents.parts must not be empty'],
    ['a part without data', { contents: [{ role: 'user', parts: [{}] }] }, "oneof field 'data'"],
    [
      'bad base64 image data',
      { contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: 'not base64!' } }] }] },
      'Base64 decoding failed',
    ],
    ['a temperature of the wrong type', { ...body, generationConfig: { temperature: 'hot' } }, 'TYPE_FLOAT'],
    [
      'a schema without the JSON mime type',
      { ...body, generationConfig: { responseJsonSchema: { type: 'object' } } },
      'response_mime_type',
    ],
    [
      'allowed names that are not declared',
      {
        ...body,
        tools: [{ functionDeclarations: [{ name: 'f' }] }],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] } },
      },
      'function "g" is not declared',
    ],
  ])('400s on %s', async (_name, payload, text) => {
    const answer = await post(GENERATE, payload);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(answer.body.error.message).toContain(text);
  });

  it('400s on a body that is not JSON and 404s on an unknown method', async () => {
    expect((await post(GENERATE, '{"contents":')).body.error.status).toBe('INVALID_ARGUMENT');
    const unknown = await post(`/v1beta/models/${MODEL}:countTokens`, body);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.status).toBe('NOT_FOUND');
  });
});

describe('Gemini faults and rate limits', () => {
  it('renders a 429 fault as RESOURCE_EXHAUSTED with RetryInfo and QuotaFailure', async () => {
    running.simulator.setFaults([{ fault: '429', retry_after_ms: 1234, count: 1 }]);
    const answer = await post(GENERATE, body);
    expect(answer.status).toBe(429);
    expect(answer.body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(detail(answer.body, 'RetryInfo')).toEqual({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: '1.234s',
    });
    const quota = detail(answer.body, 'QuotaFailure') as { violations: Array<{ quotaId: string }> };
    expect(quota.violations[0]?.quotaId).toContain('PerMinute');
  });

  it('renders insufficient_quota as a per-day quota violation without RetryInfo', async () => {
    running.simulator.setFaults([{ fault: 'insufficient_quota', count: 1 }]);
    const answer = await post(GENERATE, body);
    expect(answer.status).toBe(429);
    const quota = detail(answer.body, 'QuotaFailure') as { violations: Array<{ quotaId: string }> };
    expect(quota.violations[0]?.quotaId).toBe('GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    expect(detail(answer.body, 'RetryInfo')).toBeUndefined();
  });

  it.each([
    ['500', 500, 'INTERNAL'],
    ['503', 503, 'UNAVAILABLE'],
  ] as const)('renders a %s fault as %s', async (fault, status, text) => {
    running.simulator.setFaults([{ fault, count: 1 }]);
    const answer = await post(GENERATE, body);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toMatchObject({ code: status, status: text });
  });

  it('refuses past the per-model rpm with the exact wait, and keeps windows by model', async () => {
    running.simulator.configure({ limits: { [MODEL]: { rpm: 1 } } });
    expect((await post(GENERATE, body)).status).toBe(200);
    const refused = await post(GENERATE, body);
    expect(refused.status).toBe(429);
    const delay = String(detail(refused.body, 'RetryInfo')?.retryDelay);
    expect(Number(delay.replace(/s$/, ''))).toBeGreaterThan(55);
    expect((await post('/v1beta/models/gemini-2.5-pro:generateContent', body)).status).toBe(200);
    const windows = running.simulator.stats().windows;
    expect(windows[MODEL]?.maxRequests).toBe(1);
    expect(windows['gemini-2.5-pro']?.maxRequests).toBe(1);
  });
});
