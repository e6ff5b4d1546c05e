import type { Request } from 'express';
import busboy from 'busboy';
import { HttpError } from '../../http-error.js';

/**
 * Largest batch input file, bytes. OpenAI documents 200 MB; llmq keeps files in Redis, where one
 * value is written and read in a single command that holds Redis's one thread for its copy and
 * is held in memory on every replica: 32 MiB keeps that short while still carrying 50,000 requests
 * of ~650 bytes each.
 */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** Most requests (non-empty lines) in one batch input file, as OpenAI documents. */
export const MAX_FILE_LINES = 50_000;

/** The upload as read from `multipart/form-data`: the file's bytes, name, lines, and `purpose`. */
export interface BatchFileUpload {
  filename: string;
  content: Buffer;
  lines: number;
  purpose: string | undefined;
}

const NEWLINE = 0x0a;

/** Counts non-empty lines chunk by chunk, as the upload streams in. */
class LineCounter {
  lines = 0;
  private lineHasContent = false;

  add(chunk: Buffer) {
    for (const byte of chunk) {
      if (byte === NEWLINE) {
        if (this.lineHasContent) this.lines += 1;
        this.lineHasContent = false;
      } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) {
        this.lineHasContent = true;
      }
    }
  }

  end(): number {
    if (this.lineHasContent) this.lines += 1;
    this.lineHasContent = false;
    return this.lines;
  }
}

/**
 * Streams a `POST /v1/files` body: one file part (`file`) of at most MAX_FILE_BYTES and
 * MAX_FILE_LINES lines, and small text fields. Stops reading as soon as a bound is passed.
 */
export function readBatchFileUpload(request: Request): Promise<BatchFileUpload> {
  if (!request.is('multipart/form-data')) {
    return Promise.reject(
      new HttpError(
        415,
        'unsupported_media_type',
        'send the file as multipart/form-data with fields "file" and "purpose"',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        // busboy signals `limit` once a file reaches its bound: one byte more tells a file at the bound from one past it.
        limits: { files: 1, fileSize: MAX_FILE_BYTES + 1, fields: 8, fieldSize: 1024, parts: 10, headerPairs: 20 },
      });
    } catch {
      reject(new HttpError(400, 'invalid_request', 'the multipart body has no boundary'));
      return;
    }
    const chunks: Buffer[] = [];
    const counter = new LineCounter();
    let filename: string | undefined;
    let purpose: string | undefined;
    let failure: HttpError | undefined;
    let fileDone: Promise<void> = Promise.resolve();
    const fail = (error: HttpError) => {
      if (failure) return;
      failure = error;
      request.unpipe(parser);
      // Drain what is left so the answer can be written; nothing more is kept.
      request.resume();
      reject(error);
    };

    parser.on('field', (name, value) => {
      if (name === 'purpose') purpose = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        fail(new HttpError(400, 'invalid_request', `unexpected file field "${name}"; send the file as "file"`));
        return;
      }
      filename = info.filename || 'upload.jsonl';
      fileDone = new Promise((done) => {
        stream.on('data', (chunk: Buffer) => {
          if (failure) return;
          chunks.push(chunk);
          counter.add(chunk);
          if (counter.lines > MAX_FILE_LINES) {
            fail(new HttpError(400, 'invalid_request', `file: more than ${MAX_FILE_LINES} requests (lines)`));
          }
        });
        stream.on('limit', () => {
          fail(new HttpError(413, 'payload_too_large', `file: larger than the limit of ${MAX_FILE_BYTES} bytes`));
        });
        stream.on('end', done);
      });
    });
    parser.on('filesLimit', () => fail(new HttpError(400, 'invalid_request', 'send one file per request')));
    parser.on('partsLimit', () => fail(new HttpError(400, 'invalid_request', 'too many parts in the multipart body')));
    parser.on('fieldsLimit', () =>
      fail(new HttpError(400, 'invalid_request', 'too many fields in the multipart body')),
    );
    parser.on('error', () => fail(new HttpError(400, 'invalid_request', 'the multipart body could not be read')));
    parser.on('close', () => {
      void fileDone.then(() => {
        if (failure) return;
        if (filename === undefined) {
          reject(new HttpError(400, 'invalid_request', 'file: missing; send the JSONL file as the "file" field'));
          return;
        }
        const lines = counter.end();
        if (lines > MAX_FILE_LINES) {
          reject(new HttpError(400, 'invalid_request', `file: more than ${MAX_FILE_LINES} requests (lines)`));
          return;
        }
        resolve({ filename, content: Buffer.concat(chunks), lines, purpose });
      });
    });
    request.on('aborted', () => fail(new HttpError(400, 'invalid_request', 'request body was cut off')));
    request.pipe(parser);
  });
}
