import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * `server.on('clientError')`: Node answers requests it cannot parse (headers over its 16 KiB
 * limit, a malformed request line) itself, with an empty body. This answers them in the API's
 * one error shape instead; the connection is closed either way, as Node would.
 */
export function answerClientError(error: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
  // A reset connection, or one already answered, has no one left to read an answer.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request headers are larger than 16 KiB']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request took too long to arrive']
        : [400, 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: { type: 'invalid_request', message } });
  // A HEAD answer carries no body; a client would read one as garbage after the response.
  const head = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      (head ? '' : body),
  );
}
