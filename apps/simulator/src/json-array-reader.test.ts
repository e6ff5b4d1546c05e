import { describe, expect, it } from 'vitest';
import { readObjectWithLargeArray } from './json-array-reader.js';

async function read(text: string, maxElements = 10, maxValueBytes = 1024 * 1024) {
  return readObjectWithLargeArray(Buffer.from(text), ['requests'], { maxElements, maxValueBytes });
}

describe('readObjectWithLargeArray', () => {
  it('reads the same members and elements JSON.parse reads', async () => {
    const value = {
      before: { nested: [1, { a: 'x' }] },
      requests: [{ custom_id: 'a', text: 'quote " and \\ and ] } [ {' }, 'plain', 12.5e3, null, true, [[]]],
      after: 'tail',
    };
    const text = JSON.stringify(value, null, 2);
    const result = await read(text);
    expect(result).toEqual({ ok: true, members: value, elements: value.requests });
  });

  it('reads an empty object and an empty array', async () => {
    expect(await read(' {} ')).toEqual({ ok: true, members: {}, elements: [] });
    expect(await read('{"requests": [ ]}')).toEqual({ ok: true, members: { requests: [] }, elements: [] });
  });

  it.each([
    '{"requests": [1, 2',
    '{"requests": [1,, 2]}',
    '{"a": 1,}',
    '{"a": 1} x',
    '{"a" 1}',
    '{"requests": ["\\"]}',
    '[1',
  ])('tells invalid JSON: %s', async (text) => {
    expect(await read(text)).toEqual({ ok: false, reason: 'invalid_json' });
  });

  it('descends a path of objects to the array', async () => {
    const value = { batch: { displayName: 'x', inputConfig: { requests: { requests: [{ a: 1 }, { b: 2 }] } } } };
    const result = await readObjectWithLargeArray(
      Buffer.from(JSON.stringify(value)),
      ['batch', 'inputConfig', 'requests', 'requests'],
      { maxElements: 10, maxValueBytes: 1000 },
    );
    expect(result).toEqual({ ok: true, members: value, elements: [{ a: 1 }, { b: 2 }] });
  });

  it('tells a valid non-object, and stops counting past the maximum', async () => {
    expect(await read('[1, 2]')).toEqual({ ok: false, reason: 'not_an_object' });
    const many = JSON.stringify({ requests: Array.from({ length: 1200 }, (_, index) => ({ index })) });
    expect(await read(many, 1000)).toEqual({ ok: false, reason: 'too_many', count: 1000 });
    expect(await read(many, 1200)).toMatchObject({ ok: true, elements: { length: 1200 } });
  });

  it('refuses an element or another member longer than the value limit', async () => {
    const long = 'x'.repeat(200);
    expect(await read(JSON.stringify({ requests: [{ text: long }] }), 10, 100)).toEqual({
      ok: false,
      reason: 'value_too_large',
    });
    expect(await read(JSON.stringify({ other: [long], requests: [] }), 10, 100)).toEqual({
      ok: false,
      reason: 'value_too_large',
    });
    expect(await read(JSON.stringify({ other: long, requests: [] }), 10, 100)).toEqual({
      ok: false,
      reason: 'value_too_large',
    });
    expect(await read(JSON.stringify({ requests: [{ text: long }] }), 10, 300)).toMatchObject({ ok: true });
  });
});
