import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { startTestApi } from './__fixtures__/test-api.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl });
  onCleanup(() => api.close());
  return api;
});

describe('API key auth', () => {
  test.for([
    ['no Authorization header', {}, 'Bearer realm="llmq"', 'missing API key: send "Authorization: Bearer <key>"'],
    ['another scheme', { authorization: 'Basic YTpi' }, 'Bearer realm="llmq"', 'Authorization: must be "Bearer <key>"'],
    [
      'a Bearer with no token',
      { authorization: 'Bearer ' },
      'Bearer realm="llmq"',
      'Authorization: must be "Bearer <key>"',
    ],
    [
      'a wrong key',
      { authorization: 'Bearer wrong-key-0123456789' },
      'Bearer realm="llmq", error="invalid_token"',
      'invalid API key',
    ],
  ] as const)('401 for %s, with the RFC 6750 challenge', async ([, headers, challenge, message], { api }) => {
    for (const [method, path] of [
      ['GET', '/v1/jobs'],
      ['POST', '/v1/jobs'],
      ['GET', '/v1/jobs/job_00000000000000000000000000/events'],
      ['GET', '/v1/nothing-here'],
    ] as const) {
      const response = await api.call(path, { method, key: null, headers });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(challenge);
      expect(response.body).toEqual({ error: { type: 'authentication', message } });
      // The key that was sent is never echoed back.
      expect(response.text).not.toContain('wrong-key');
    }
  });

  test('a valid key gets no challenge', async ({ api }) => {
    const response = await api.call('/v1/jobs');
    expect(response.status).toBe(200);
    expect(response.headers.get('www-authenticate')).toBeNull();
  });
});
