/** One field of a `multipart/form-data` body. */
export interface FormField {
  /** The file name, for file fields. */
  filename?: string;
  data: Buffer;
}

/** Fields read from one form, at most; a form with more is refused. */
export const MAX_FORM_FIELDS = 16;

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** The boundary of a `multipart/form-data` content type, or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

function dispositionParameter(headers: string, name: string): string | undefined {
  const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1];
  if (disposition === undefined) return undefined;
  const match = new RegExp(`;\\s*${name}="([^"]*)"`, 'i').exec(disposition);
  return match?.[1];
}

/**
 * Splits a `multipart/form-data` body (RFC 7578) into its named fields. Uses `Buffer.indexOf`
 * only, so a 200 MB upload is split in native code without copying file data.
 */
export function parseMultipartForm(body: Buffer, boundary: string): Map<string, FormField> {
  const delimiter = Buffer.from(`--${boundary}`);
  const fields = new Map<string, FormField>();
  let position = body.indexOf(delimiter);
  if (position === -1) throw new MultipartError('the body holds no multipart boundary');
  while (true) {
    position += delimiter.length;
    if (body.toString('latin1', position, position + 2) === '--') return fields;
    const headersEnd = body.indexOf('\r\n\r\n', position);
    if (headersEnd === -1) throw new MultipartError('a multipart part has no header end');
    const headers = body.toString('utf8', position, headersEnd);
    const dataStart = headersEnd + 4;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), dataStart);
    if (next === -1) throw new MultipartError('a multipart part has no closing boundary');
    const name = dispositionParameter(headers, 'name');
    if (name === undefined) throw new MultipartError('a multipart part has no name');
    if (fields.size >= MAX_FORM_FIELDS) throw new MultipartError(`a form holds at most ${MAX_FORM_FIELDS} fields`);
    const filename = dispositionParameter(headers, 'filename');
    fields.set(name, { ...(filename === undefined ? {} : { filename }), data: body.subarray(dataStart, next) });
    position = next + 2;
  }
}
