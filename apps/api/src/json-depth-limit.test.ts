import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorHandler } from './error-handler.js';
import {
  jsonDepthExceeds,
  jsonShapeProblem,
  limitJsonDepth,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
  rawJsonShapeProblem,
} from './json-depth-limit.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonDepthExceeds', () => {
  it.each([
    [undefined, 1, false],
    ['text', 0, false],
    [{}, 1, false],
    [{}, 0, true],
    [{ a: [1, { b: 2 }] }, 3, false],
    [{ a: [1, { b: 2 }] }, 2, true],
    [JSON.parse(nested(5)), 5, false],
    [JSON.parse(nested(6)), 5, true],
  ])('%j within %i levels: exceeds = %s', (value, limit, exceeds) => {
    expect(jsonDepthExceeds(value, limit)).toBe(exceeds);
  });

  it('walks a body far deeper than the stack allows without overflowing', () => {
    expect(jsonDepthExceeds(JSON.parse(nested(200_000)), MAX_JSON_DEPTH)).toBe(true);
  });
});

describe('rawJsonShapeProblem', () => {
  const raw = (text: string) => Buffer.from(text);

  it('finds the same limits in the bytes, ignoring what is inside strings', () => {
    expect(rawJsonShapeProblem(raw('{"a":[1,2,{"b":null}]}'), { values: 6 })).toBeNull();
    expect(rawJsonShapeProblem(raw('[1,2,3,4,5,6,7]'), { values: 6 })).toBe(
      'request body holds more than 6 JSON values',
    );
    expect(rawJsonShapeProblem(raw('{"a":"[[[,,,,,,\\"[[["}'), { values: 3, depth: 2 })).toBeNull();
    expect(rawJsonShapeProblem(raw(nested(65)))).toBe(
      `request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
    );
  });

  it('counts an empty container once, as the parsed walk does', () => {
    const text = '{"a":[],"b":{},"c":[[],{}]}';
    // The root, its three members and the two in "c".
    expect(jsonShapeProblem(JSON.parse(text), { values: 6 })).toBeNull();
    expect(rawJsonShapeProblem(raw(text), { values: 6 })).toBeNull();
    expect(rawJsonShapeProblem(raw(text), { values: 5 })).toBe('request body holds more than 5 JSON values');
    expect(rawJsonShapeProblem(raw('[ ]'), { values: 1 })).toBeNull();
  });

  it('counts the values the parsed walk counts (first children and commas)', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        const limits = { values: 40, depth: 5 };
        // The same verdict; when both limits are passed, each may name the one it met first.
        expect(rawJsonShapeProblem(raw(text), limits) === null).toBe(
          jsonShapeProblem(JSON.parse(text), limits) === null,
        );
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('jsonShapeProblem', () => {
  it('counts every value, primitives included, and refuses past the limit', () => {
    expect(jsonShapeProblem({ a: [1, 2, { b: null }] }, { values: 6 })).toBeNull();
    expect(jsonShapeProblem({ a: [1, 2, { b: null }] }, { values: 5 })).toBe(
      'request body holds more than 5 JSON values',
    );
  });

  it('refuses the most values a 4 MiB body can hold (two million zeros)', () => {
    const zeros = JSON.parse(`[${'0,'.repeat(2_000_000)}0]`) as unknown;
    expect(jsonShapeProblem(zeros)).toBe(`request body holds more than ${MAX_JSON_VALUES} JSON values`);
    expect(
      jsonShapeProblem({ messages: Array.from({ length: 10_000 }, () => ({ role: 'user', content: 'hi' })) }),
    ).toBeNull();
  });
});

// Found by the API fuzz: a tool schema nested 20,000 levels deep passed validation, then
// overflowed the stack estimating its tokens (JSON.stringify) and answered 500.
describe('limitJsonDepth', () => {
  it('answers 400 in the one error shape before a route stringifies the body', async () => {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.use(limitJsonDepth());
    app.post('/echo', (request, response) => {
      response.json({ length: JSON.stringify(request.body).length });
    });
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
    const post = async (body: string) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    try {
      const tool = (depth: number) => `{"tools":[{"function":{"parameters":{"a":${nested(depth)}}}}]}`;
      expect(await post(tool(20_000))).toEqual({
        status: 400,
        body: {
          error: {
            type: 'invalid_request',
            message: `request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
          },
        },
      });
      expect((await post(tool(MAX_JSON_DEPTH - 5))).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
