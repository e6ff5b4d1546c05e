import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { placeholderForSchema } from './json-schema-placeholder.js';
import { simulatedChatReply } from './openai-chat-request.js';
import { generateReply, MAX_REPLY_WORDS, MIN_REPLY_WORDS, type ReplyRequest } from './reply-generator.js';
import { WireError } from './wire-error.js';

const base: ReplyRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', text: 'x' }],
  sampling: {},
};

function wordsAfterQuote(content: string | null): number {
  return (content ?? '').split('\n\n')[1]?.split(' ').length ?? 0;
}

describe('generateReply', () => {
  it('is a pure function of model, messages and sampling, with 5..40 words', () => {
    const seen = new Set<number>();
    for (let index = 0; index < 200; index += 1) {
      const request = { ...base, messages: [{ role: 'user', text: `question ${index}` }] };
      const reply = generateReply(request);
      expect(generateReply(request)).toEqual(reply);
      const words = wordsAfterQuote(reply.content);
      expect(words).toBeGreaterThanOrEqual(MIN_REPLY_WORDS);
      expect(words).toBeLessThanOrEqual(MAX_REPLY_WORDS);
      seen.add(words);
    }
    expect(seen.size).toBeGreaterThan(20);
    expect(generateReply({ ...base, model: 'other' }).content).not.toBe(generateReply(base).content);
    expect(generateReply({ ...base, sampling: { seed: 1 } }).content).not.toBe(generateReply(base).content);
  });

  it('quotes the first 40 characters of the last user message', () => {
    const text = `${'a'.repeat(38)}é😀 and more`;
    const reply = generateReply({
      ...base,
      messages: [
        { role: 'user', text },
        { role: 'assistant', text: 'ignored' },
      ],
    });
    expect(reply.content?.startsWith(`Simulated reply to: ${'a'.repeat(38)}é😀\n\n`)).toBe(true);
  });

  it('stops before a stop sequence and truncates on token boundaries', () => {
    const full = generateReply(base).content ?? '';
    const stopped = generateReply({ ...base, stopSequences: ['reply'] });
    expect(stopped.content).toBe('Simulated ');
    expect(stopped.finishReason).toBe('stop');
    const cut = generateReply({ ...base, maxOutputTokens: 3 });
    expect(cut.finishReason).toBe('length');
    expect(cut.completionTokens).toBe(3);
    expect(full.startsWith(cut.content ?? '-')).toBe(true);
    expect(generateReply({ ...base, maxOutputTokens: 10_000 }).finishReason).toBe('stop');
  });

  it('counts completion tokens of a tool call as name plus arguments', () => {
    const reply = generateReply({ ...base, tools: [{ name: 'lookup' }], toolChoice: { mode: 'required' } });
    const call = reply.toolCalls[0];
    expect(call?.arguments).toBe('{"query":"x"}');
    expect(reply.completionTokens).toBe(countTokens('lookup') + countTokens('{"query":"x"}'));
    expect(generateReply({ ...base, tools: [{ name: 'lookup' }], toolChoice: { mode: 'none' } }).toolCalls).toEqual([]);
  });
});

describe('simulatedChatReply', () => {
  it('treats null sampling fields like absent ones and throws a WireError on a bad body', () => {
    const messages = [{ role: 'user', content: 'hello' }];
    expect(simulatedChatReply({ model: 'm', messages, temperature: null })).toEqual(
      simulatedChatReply({ model: 'm', messages }),
    );
    expect(() => simulatedChatReply({ model: 'm', messages: [] })).toThrow(WireError);
  });

  it('counts image parts at 85 tokens and text parts by their text', () => {
    const withImage = simulatedChatReply({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
    });
    expect(withImage.promptTokens).toBe(3 + 3 + countTokens('user') + countTokens('look') + 85);
  });
});

describe('placeholderForSchema', () => {
  it.each([
    [{ type: 'string' }, 'simulated'],
    [{ type: 'integer', minimum: 3 }, 3],
    [{ type: ['null', 'number'] }, 0],
    [{ enum: ['b', 'a'] }, 'b'],
    [{ const: 42 }, 42],
    [{ type: 'string', format: 'date-time' }, '2025-01-01T00:00:00Z'],
    [{ type: 'array', items: { type: 'boolean' }, minItems: 2 }, [true, true]],
    [{ anyOf: [{ type: 'null' }, { type: 'string' }] }, 'simulated'],
    [{}, {}],
  ])('%j -> %j', (schema, expected) => {
    expect(placeholderForSchema(schema)).toEqual(expected);
  });

  it('follows local $refs and stops on recursion', () => {
    const schema = {
      type: 'object',
      properties: { node: { $ref: '#/$defs/node' } },
      required: ['node'],
      $defs: {
        node: {
          type: 'object',
          properties: { label: { type: 'string' }, child: { $ref: '#/$defs/node' } },
          required: ['label', 'child'],
        },
      },
    };
    const value = placeholderForSchema(schema);
    expect(value).toMatchObject({ node: { label: 'simulated', child: { label: 'simulated' } } });
    expect(JSON.stringify(value).length).toBeLessThan(1000);
  });
});
