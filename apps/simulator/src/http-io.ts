import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WireError } from './wire-error.js';

/** Largest request body read, in bytes. Default for `SimulatorOptions.maxBodyBytes`. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** Reads the whole body; rejects with `BodyTooLargeError` past `limitBytes`. */
export function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new BodyTooLargeError(limitBytes));
        request.removeAllListeners('data');
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
    request.once('error', reject);
    // An aborted upload may end with 'close' alone; settling here keeps no promise pending forever.
    request.once('close', () => reject(new Error('request closed before its body was read')));
  });
}

/** JSON.parse that reports failure as a result, so callers branch instead of catching. */
export function parseJson(buffer: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(buffer.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Writes a complete JSON answer with an explicit content-length (no chunked encoding). */
export function writeJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function writeWireError(
  response: ServerResponse,
  error: WireError,
  headers: Readonly<Record<string, string>> = {},
): void {
  writeJson(response, error.status, error.body, { ...error.headers, ...headers });
}
