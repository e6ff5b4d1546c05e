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

/** The challenge of a 401 (RFC 6750 section 3): the scheme and realm, and why a token was refused. */
export const BEARER_CHALLENGE = 'Bearer realm="llmq"';
export const INVALID_TOKEN_CHALLENGE = `${BEARER_CHALLENGE}, error="invalid_token"`;

/**
 * Bearer-key auth. Keys are looked up by their SHA-256 digest so that neither the map nor a
 * timing difference reveals a key. A 401 says how to authenticate in `WWW-Authenticate`.
 */
export function requireApiKey(apiKeys: ReadonlyMap<string, string>): RequestHandler {
  const tenantsByDigest = new Map([...apiKeys].map(([key, tenant]) => [digest(key), tenant]));
  return (request, response, next) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    if (token === undefined) {
      // No bearer token at all: the challenge alone, with no error code (RFC 6750 section 3.1).
      response.set('www-authenticate', BEARER_CHALLENGE);
      throw new HttpError(
        401,
        'authentication',
        header === undefined
          ? 'missing API key: send "Authorization: Bearer <key>"'
          : 'Authorization: must be "Bearer <key>"',
      );
    }
    const tenant = tenantsByDigest.get(digest(token));
    if (tenant === undefined) {
      response.set('www-authenticate', INVALID_TOKEN_CHALLENGE);
      throw new HttpError(401, 'authentication', 'invalid API key');
    }
    request.tenant = tenant;
    next();
  };
}

export function tenantOf(request: { tenant?: string | undefined }): string {
  if (request.tenant === undefined) throw new HttpError(401, 'authentication', 'missing API key');
  return request.tenant;
}
