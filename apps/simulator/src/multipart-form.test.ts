import { describe, expect, it } from 'vitest';
import { multipartBoundary, MultipartError, parseMultipartForm } from './multipart-form.js';

describe('multipart/form-data', () => {
  it('reads the fields a FormData body carries', async () => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob(['{"a":1}\n{"b":2}\r\n']), 'input.jsonl');
    const request = new Request('http://local/', { method: 'POST', body: form });
    const boundary = multipartBoundary(request.headers.get('content-type') ?? undefined);
    expect(boundary).toBeDefined();
    const fields = parseMultipartForm(Buffer.from(await request.arrayBuffer()), boundary ?? '');
    expect(fields.get('purpose')?.data.toString()).toBe('batch');
    expect(fields.get('file')?.filename).toBe('input.jsonl');
    expect(fields.get('file')?.data.toString()).toBe('{"a":1}\n{"b":2}\r\n');
  });

  it('refuses other content types and broken bodies', () => {
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary('multipart/form-data; boundary="quoted"')).toBe('quoted');
    expect(() => parseMultipartForm(Buffer.from('no boundary here'), 'b')).toThrow(MultipartError);
    expect(() =>
      parseMultipartForm(Buffer.from('--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nvalue'), 'b'),
    ).toThrow(/closing boundary/);
  });
});
