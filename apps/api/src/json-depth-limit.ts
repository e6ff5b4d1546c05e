import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

/**
 * Deepest nesting of objects and arrays a request body may have. Real bodies stay far below it
 * (a tool's JSON Schema ten levels deep is about 30); a hostile one thousands of levels deep would
 * overflow the stack of every recursive step after parsing (token estimates, JSON.stringify into
 * Redis) and answer 500.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Most JSON values (objects, arrays, strings, numbers, booleans, nulls) a request body may hold.
 * Every step after parsing (schema validation, canonical hashing, storing) costs time per value,
 * and 4 MiB of `[0,0,0,...]` holds two million of them; 50,000 keeps the dearest (RFC 8785
 * canonical JSON of 25,000 sorted keys) near 40 ms, and
 * is far above real bodies (10,000 chat messages are about 30,000 values).
 */
export const MAX_JSON_VALUES = 50_000;

export interface JsonShapeLimits {
  /** Default `MAX_JSON_DEPTH`. */
  depth?: number;
  /** Default `MAX_JSON_VALUES`. */
  values?: number;
}

/** Whether `value` nests objects and arrays more than `limit` levels deep; iterative, so it cannot overflow. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  return jsonShapeProblem(value, { depth: limit, values: Infinity }) !== null;
}

/**
 * What is wrong with a parsed body's shape (too deep, too many values), or null. Iterative, so
 * it cannot overflow, and it stops as soon as a limit is passed.
 */
export function jsonShapeProblem(value: unknown, limits: JsonShapeLimits = {}): string | null {
  const maxDepth = limits.depth ?? MAX_JSON_DEPTH;
  const maxValues = limits.values ?? MAX_JSON_VALUES;
  let values = 1;
  const pending: Array<{ value: object; depth: number }> = [];
  if (typeof value === 'object' && value !== null) pending.push({ value, depth: 1 });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.depth > maxDepth) return `request body nests objects and arrays deeper than ${maxDepth} levels`;
    const children: unknown[] = Array.isArray(next.value) ? next.value : Object.values(next.value);
    values += children.length;
    if (values > maxValues) return `request body holds more than ${maxValues} JSON values`;
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: next.depth + 1 });
    }
  }
  return null;
}

/** Refuses parsed JSON bodies nested too deep or holding too many values with a 400, before any route sees them. */
export function limitJsonDepth(limits: JsonShapeLimits = {}): RequestHandler {
  return (request, _response, next) => {
    const problem = jsonShapeProblem(request.body, limits);
    if (problem !== null) throw new HttpError(400, 'invalid_request', problem);
    next();
  };
}
