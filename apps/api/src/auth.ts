import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The tenant the API key belongs to; set by `requireApiKey`. */
      tenant?: string;
    }
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * Bearer-key auth. Keys are looked up by their SHA-256 digest so that neither the map nor a
 * timing difference reveals a key.
 */
export function requireApiKey(apiKeys: ReadonlyMap<string, string>): RequestHandler {
  const tenantsByDigest = new Map([...apiKeys].map(([key, tenant]) => [digest(key), tenant]));
  return (request, _response, next) => {
    const header = request.headers.authorization;
    if (header === undefined) {
      throw new HttpError(401, 'authentication', 'missing API key: send "Authorization: Bearer <key>"');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const tenant = match?.[1] === undefined ? undefined : tenantsByDigest.get(digest(match[1]));
    if (tenant === undefined) throw new HttpError(401, 'authentication', 'invalid API key');
    request.tenant = tenant;
    next();
  };
}

export function tenantOf(request: { tenant?: string | undefined }): string {
  if (request.tenant === undefined) throw new HttpError(401, 'authentication', 'missing API key');
  return request.tenant;
}
