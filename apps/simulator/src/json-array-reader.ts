import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * Reads a JSON object whose one member is a very large array (`{"requests": [...]}`, 256 MB)
 * without one long `JSON.parse`: the array's elements are located by a byte scanner and parsed
 * one by one, yielding to the event loop every few hundred, and counting stops at `maxElements`.
 * No single value (an element, or another member) may exceed `maxValueBytes`, so no one parse
 * or scan holds the event loop for long.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
/** Elements parsed between yields to the event loop. */
const ELEMENTS_PER_CHUNK = 500;

export type LargeArrayRead =
  | { ok: true; members: Record<string, unknown>; elements: unknown[] }
  | { ok: false; reason: 'invalid_json' | 'not_an_object' | 'too_many' | 'value_too_large'; count?: number };

export interface LargeArrayLimits {
  /** Elements read at most; one more is `too_many`. */
  maxElements: number;
  /** Bytes of one element or other member value at most; more is `value_too_large`. */
  maxValueBytes: number;
}

class ScanError extends Error {}
class ValueTooLargeError extends Error {}

function skipWhitespace(buffer: Buffer, position: number): number {
  let index = position;
  while (index < buffer.length && WHITESPACE.has(buffer[index] ?? 0)) index += 1;
  return index;
}

/** Index just past the string starting at `position` (a quote). */
function stringEnd(buffer: Buffer, position: number): number {
  let index = position + 1;
  while (true) {
    const quote = buffer.indexOf(QUOTE, index);
    if (quote === -1) throw new ScanError('unterminated string');
    let backslashes = 0;
    while (buffer[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    index = quote + 1;
  }
}

/**
 * Index just past the JSON value starting at `position`, scanning at most `maxBytes`; the value
 * itself is checked later by JSON.parse.
 */
function valueEnd(buffer: Buffer, position: number, maxBytes: number): number {
  const first = buffer[position];
  if (first === QUOTE) {
    const end = stringEnd(buffer, position);
    if (end - position > maxBytes) throw new ValueTooLargeError();
    return end;
  }
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    let index = position;
    const limit = Math.min(buffer.length, position + maxBytes);
    while (index < limit) {
      const byte = buffer[index];
      if (byte === QUOTE) {
        index = stringEnd(buffer, index);
        continue;
      }
      if (byte === 0x7b || byte === 0x5b) depth += 1;
      else if (byte === 0x7d || byte === 0x5d) {
        depth -= 1;
        if (depth === 0) return index + 1;
      }
      index += 1;
    }
    if (limit < buffer.length) throw new ValueTooLargeError();
    throw new ScanError('unterminated value');
  }
  let index = position;
  while (index < buffer.length) {
    const byte = buffer[index] ?? 0;
    if (byte === 0x2c || byte === 0x7d || byte === 0x5d || WHITESPACE.has(byte)) break;
    index += 1;
  }
  if (index === position) throw new ScanError('missing value');
  return index;
}

function parseSlice(buffer: Buffer, start: number, end: number): unknown {
  return JSON.parse(buffer.toString('utf8', start, end)) as unknown;
}

async function readArray(
  buffer: Buffer,
  position: number,
  limits: LargeArrayLimits,
  elements: unknown[],
): Promise<{ end: number } | { tooMany: true }> {
  let index = skipWhitespace(buffer, position + 1);
  if (buffer[index] === 0x5d) return { end: index + 1 };
  while (true) {
    if (elements.length >= limits.maxElements) return { tooMany: true };
    if (elements.length % ELEMENTS_PER_CHUNK === 0 && elements.length > 0) await yieldToEventLoop();
    const end = valueEnd(buffer, index, limits.maxValueBytes);
    elements.push(parseSlice(buffer, index, end));
    index = skipWhitespace(buffer, end);
    if (buffer[index] === 0x5d) return { end: index + 1 };
    if (buffer[index] !== 0x2c) throw new ScanError('expected , or ]');
    index = skipWhitespace(buffer, index + 1);
  }
}

interface ArrayTarget {
  limits: LargeArrayLimits;
  elements: unknown[];
  tooMany: boolean;
}

/** Reads the object at `position`; its member `path[0]` is descended into (an object) or read element by element (the last key, an array). */
async function readObject(
  buffer: Buffer,
  position: number,
  path: readonly string[],
  target: ArrayTarget,
): Promise<{ value: Record<string, unknown>; end: number }> {
  const members: Record<string, unknown> = {};
  if (buffer[position] !== 0x7b) throw new ScanError('expected an object');
  let index = skipWhitespace(buffer, position + 1);
  while (buffer[index] !== 0x7d) {
    if (buffer[index] !== QUOTE) throw new ScanError('expected a member name');
    const keyEnd = stringEnd(buffer, index);
    const key = String(parseSlice(buffer, index, keyEnd));
    index = skipWhitespace(buffer, keyEnd);
    if (buffer[index] !== 0x3a) throw new ScanError('expected :');
    index = skipWhitespace(buffer, index + 1);
    const onPath = key === path[0];
    if (onPath && path.length === 1 && buffer[index] === 0x5b) {
      const read = await readArray(buffer, index, target.limits, target.elements);
      if ('tooMany' in read) {
        target.tooMany = true;
        return { value: members, end: index };
      }
      members[key] = target.elements;
      index = read.end;
    } else if (onPath && path.length > 1 && buffer[index] === 0x7b) {
      const read = await readObject(buffer, index, path.slice(1), target);
      if (target.tooMany) return { value: members, end: index };
      members[key] = read.value;
      index = read.end;
    } else {
      const end = valueEnd(buffer, index, target.limits.maxValueBytes);
      members[key] = parseSlice(buffer, index, end);
      index = end;
    }
    index = skipWhitespace(buffer, index);
    if (buffer[index] === 0x7d) break;
    if (buffer[index] !== 0x2c) throw new ScanError('expected , or }');
    index = skipWhitespace(buffer, index + 1);
    if (buffer[index] === 0x7d) throw new ScanError('trailing comma');
  }
  return { value: members, end: index + 1 };
}

/**
 * Reads the object in `buffer`; the array at `arrayPath` (member names from the top, e.g.
 * `["batch", "inputConfig", "requests", "requests"]`) is read element by element. `elements`
 * holds that array's elements (empty when it is absent).
 */
export async function readObjectWithLargeArray(
  buffer: Buffer,
  arrayPath: readonly string[],
  limits: LargeArrayLimits,
): Promise<LargeArrayRead> {
  const target: ArrayTarget = { limits, elements: [], tooMany: false };
  try {
    const start = skipWhitespace(buffer, 0);
    if (buffer[start] !== 0x7b) {
      // Not an object: JSON.parse tells a bad body from a valid non-object.
      parseSlice(buffer, 0, buffer.length);
      return { ok: false, reason: 'not_an_object' };
    }
    const read = await readObject(buffer, start, arrayPath, target);
    if (target.tooMany) return { ok: false, reason: 'too_many', count: target.elements.length };
    if (skipWhitespace(buffer, read.end) !== buffer.length) throw new ScanError('trailing data');
    return { ok: true, members: read.value, elements: target.elements };
  } catch (error) {
    if (error instanceof ValueTooLargeError) return { ok: false, reason: 'value_too_large' };
    if (error instanceof ScanError || error instanceof SyntaxError) return { ok: false, reason: 'invalid_json' };
    throw error;
  }
}
