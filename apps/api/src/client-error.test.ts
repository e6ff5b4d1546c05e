import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { answerClientError } from './client-error.js';

/** Sends raw bytes and returns everything the server answered before closing. */
async function exchange(port: number, raw: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.on('error', () => undefined);
  socket.write(raw);
  await once(socket, 'close');
  return answer;
}

// Found by the API fuzz: Node answered an oversized header itself, with an empty body.
describe('answerClientError', () => {
  it.each([
    ['headers over 16 KiB', `GET /v1/jobs HTTP/1.1\r\nhost: x\r\nx-big: ${'h'.repeat(20_000)}\r\n\r\n`, 431],
    ['a request line that is not HTTP', 'NOT HTTP AT ALL\r\n\r\n', 400],
  ])('%s: answers %i in the one error shape and closes', async (_name, raw, status) => {
    const server = createServer((_request, response) => response.end('ok'));
    server.on('clientError', answerClientError);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const answer = await exchange((server.address() as AddressInfo).port, raw);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(head.toLowerCase()).toContain('content-type: application/json');
      expect(JSON.parse(body)).toMatchObject({ error: { type: 'invalid_request', message: expect.any(String) } });
    } finally {
      server.close();
    }
  });

  // Found by the API fuzz: a body after a HEAD answer is read by clients as garbage.
  it('answers a HEAD request with headers only', async () => {
    const server = createServer((_request, response) => response.end('ok'));
    server.on('clientError', answerClientError);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const raw = `HEAD /v1/jobs HTTP/1.1\r\nhost: x\r\nx-big: ${'h'.repeat(20_000)}\r\n\r\n`;
      const answer = await exchange((server.address() as AddressInfo).port, raw);
      const [head = '', body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 431 /);
      expect(body).toBe('');
    } finally {
      server.close();
    }
  });
});
