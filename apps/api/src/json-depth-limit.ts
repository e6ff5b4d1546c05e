import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

/**
 * Deepest nesting of objects and arrays a request body may have. Real bodies stay far below it
 * (a tool's JSON Schema ten levels deep is about 30); a hostile one thousands of levels deep would
 * overflow the stack of every recursive step after parsing (token estimates, JSON.stringify into
 * Redis) and answer 500.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests objects and arrays more than `limit` levels deep; iterative, so it cannot overflow. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > limit) return true;
    for (const child of Object.values(next.value)) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: next.depth + 1 });
    }
  }
  return false;
}

/** Refuses parsed JSON bodies nested deeper than `limit` with a 400, before any route sees them. */
export function limitJsonDepth(limit = MAX_JSON_DEPTH): RequestHandler {
  return (request, _response, next) => {
    if (jsonDepthExceeds(request.body, limit)) {
      throw new HttpError(400, 'invalid_request', `request body nests objects and arrays deeper than ${limit} levels`);
    }
    next();
  };
}
