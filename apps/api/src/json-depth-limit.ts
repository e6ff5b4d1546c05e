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
 * canonical JSON of sorted keys: 66,000 values took 70-80 ms) near 50 ms, and is far above real
 * bodies (10,000 chat messages are about 30,000 values).
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The same limits, read from the raw bytes before JSON.parse: one pass, no allocation. Every value
 * but the root is either the first in its container or follows a comma outside a string, so
 * counting first children and commas counts the values as the parsed walk does (an object's
 * repeated keys, which JSON.parse collapses, count each); a body past either limit is refused
 * before parsing it costs anything (parsing 4 MiB of small objects holds the event loop for 60 ms).
 */
export function rawJsonShapeProblem(body: Uint8Array, limits: JsonShapeLimits = {}): string | null {
  const maxDepth = limits.depth ?? MAX_JSON_DEPTH;
  const maxValues = limits.values ?? MAX_JSON_VALUES;
  let inString = false;
  let depth = 0;
  let values = 1;
  // Just past an opening bracket: the next byte that is not whitespace says whether it is empty.
  let opened = false;
  for (let index = 0; index < body.length; index += 1) {
    const byte = body[index];
    if (inString) {
      if (byte === BACKSLASH) index += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (opened && byte !== SPACE && byte !== TAB && byte !== LINE_FEED && byte !== CARRIAGE_RETURN) {
      opened = false;
      if (byte !== CLOSE_BRACE && byte !== CLOSE_BRACKET) values += 1;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      opened = true;
      if (depth > maxDepth) return `request body nests objects and arrays deeper than ${maxDepth} levels`;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth -= 1;
    else if (byte === COMMA) values += 1;
    if (values > maxValues) return `request body holds more than ${maxValues} JSON values`;
  }
  return null;
}

/** body-parser's `verify`: refuses a raw body past the shape limits before it is parsed. */
export function verifyJsonShape(limits: JsonShapeLimits = {}) {
  return (_request: unknown, _response: unknown, body: Buffer): void => {
    const problem = rawJsonShapeProblem(body, limits);
    if (problem !== null) throw new HttpError(400, 'invalid_request', problem);
  };
}

/** Refuses parsed JSON bodies nested too deep or holding too many values with a 400, before any route sees them. */
export function limitJsonDepth(limits: JsonShapeLimits = {}): RequestHandler {
  return (request, _response, next) => {
    const problem = jsonShapeProblem(request.body, limits);
    if (problem !== null) throw new HttpError(400, 'invalid_request', problem);
    next();
  };
}

/**
 * Gives the event loop a turn before the next middleware when the body is large: parsing 4 MiB,
 * walking its shape and validating it are each about 20 ms, and in one turn they would hold
 * every other request for their sum.
 */
export function yieldAfterLargeBody(thresholdBytes = 65_536): RequestHandler {
  return (request, _response, next) => {
    if (Number(request.headers['content-length'] ?? 0) >= thresholdBytes) setImmediate(next);
    else next();
  };
}
