import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { englishProse, ordinaryText, STACK_KEYS, UNBROKEN_RUNS } from '@llmq/devkit';
import { startFuzzTarget, type FuzzTarget } from './fuzz-target.js';

/** The API's default body limit: the largest body a client can send. */
const BODY_LIMIT = 4 * 1024 * 1024;

let target: FuzzTarget;

beforeAll(async () => {
  target = await startFuzzTarget({ maxBodyBytes: BODY_LIMIT });
}, 60_000);

afterAll(async () => {
  await target?.stop();
});

interface Answer {
  status: number;
  body: string;
  /** When the answer arrived, performance.now(). */
  at: number;
}

/** POSTs `body`; once its last byte is written, sends a probe. Both answers, with their arrival times. */
function postWithProbe(body: string): Promise<{ hostile: Answer; probe: Answer }> {
  const url = new URL(target.baseUrl);
  const call = (method: string, path: string, payload?: string) => {
    let sent: () => void = () => undefined;
    const written = new Promise<void>((resolve) => (sent = resolve));
    const answer = new Promise<Answer>((resolve, reject) => {
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${STACK_KEYS.alpha}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              at: performance.now(),
            }),
          );
        },
      );
      request.on('error', reject);
      request.end(payload, () => sent());
    });
    return { written, answer };
  };
  const hostile = call('POST', '/v1/jobs', body);
  return hostile.written.then(async () => {
    const probe = call('GET', '/healthz');
    return { hostile: await hostile.answer, probe: await probe.answer };
  });
}

const chat = (content: string) =>
  JSON.stringify({ type: 'chat', request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] } });

/** A chat body of about `bytes` bytes whose one message is made by `make`. */
function chatOfSize(make: (length: number) => string, bytes: number): string {
  let length = bytes;
  for (;;) {
    const body = chat(make(length));
    const size = Buffer.byteLength(body);
    if (size <= bytes) return body;
    length = Math.floor((length * bytes * 0.98) / size);
  }
}

// Each class at the body limit: byte-pair encoding is quadratic in an unbroken run, so these were
// the requests that held the API for minutes. Each must be accepted while the API keeps serving.
const TEXT_CLASSES: Array<[string, (length: number) => string]> = [
  ['ordinary text', ordinaryText],
  ['English prose', englishProse],
  ...Object.entries(UNBROKEN_RUNS),
];

describe('hostile inputs at the body limit', () => {
  it.each(TEXT_CLASSES)('%s: accepted, and a probe sent meanwhile is answered first', async (_name, make) => {
    const { hostile, probe } = await postWithProbe(chatOfSize(make, BODY_LIMIT - 1_024));
    expect(hostile.status, hostile.body.slice(0, 300)).toBe(202);
    expect(probe.status).toBe(200);
    expect(probe.at).toBeLessThan(hostile.at);
  });

  it('10,000 messages: accepted while the API keeps serving; 10,001 are refused by name', async () => {
    const messages = (count: number) =>
      JSON.stringify({
        type: 'chat',
        request: {
          model: 'openai/gpt-4o-mini',
          messages: Array.from({ length: count }, (_, index) => ({
            role: index % 2 === 0 ? 'user' : 'assistant',
            content: ordinaryText(300, index + 1),
          })),
        },
      });
    const accepted = await postWithProbe(messages(10_000));
    expect(accepted.hostile.status, accepted.hostile.body.slice(0, 300)).toBe(202);
    expect(accepted.probe.at).toBeLessThan(accepted.hostile.at);
    const refused = await postWithProbe(messages(10_001));
    expect(refused.hostile.status).toBe(400);
    expect(refused.hostile.body).toContain('at most 10000 messages');
  });

  it.each([
    [
      'two million zeros',
      JSON.stringify({ type: 'embedding', request: { model: 'openai/e', input: [Array(1_500_000).fill(0)] } }),
      'more than 50000 JSON values',
    ],
    [
      'a tool schema nested 100,000 deep',
      `{"type":"chat","request":{"model":"openai/m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}]}}`,
      'deeper than 64 levels',
    ],
    [
      'a ReDoS pattern in the response schema',
      JSON.stringify({
        type: 'chat',
        request: {
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: 'x' }],
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'n', schema: { type: 'string', pattern: '^(?=(a+)+$)' } },
          },
        },
      }),
      'cannot run in linear time',
    ],
  ])('%s: refused with a 400 naming the problem; the API keeps serving', async (_name, body, message) => {
    const { hostile, probe } = await postWithProbe(body);
    expect(hostile.status).toBe(400);
    expect(hostile.body).toContain(message);
    expect(probe.status).toBe(200);
  });
});
