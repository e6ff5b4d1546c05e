import { describe, expect, it } from 'vitest';
import { chatRequestSchema, type ChatRequest } from '../jobs/chat-request-schema.js';
import { chatRequestDigest, embeddingInputDigest, semanticPromptText, semanticScopeDigest } from './request-digest.js';

const request = (fields: Record<string, unknown>): ChatRequest =>
  chatRequestSchema.parse({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], ...fields });

const MODEL = 'openai/gpt-4o-mini';

describe('chatRequestDigest', () => {
  it('ignores key order, equivalent spellings and the user label', () => {
    const plain = chatRequestDigest(request({ temperature: 0, max_tokens: 20, stop: 'x' }), MODEL);
    expect(
      chatRequestDigest(
        request({
          stop: ['x'],
          max_completion_tokens: 20,
          temperature: 0,
          user: 'someone',
          presence_penalty: 0,
          messages: [{ content: [{ type: 'text', text: 'Hi' }], role: 'user' }],
        }),
        MODEL,
      ),
    ).toBe(plain);
  });

  it('changes with any parameter, message, tool or output format, and with the model', () => {
    const base = chatRequestDigest(request({ temperature: 0 }), MODEL);
    const variants = [
      chatRequestDigest(request({ temperature: 0.1 }), MODEL),
      chatRequestDigest(request({ temperature: 0, seed: 1 }), MODEL),
      chatRequestDigest(request({ temperature: 0, max_tokens: 5 }), MODEL),
      chatRequestDigest(request({ temperature: 0, messages: [{ role: 'user', content: 'Hi!' }] }), MODEL),
      chatRequestDigest(request({ temperature: 0, response_format: { type: 'json_object' } }), MODEL),
      chatRequestDigest(
        request({ temperature: 0, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }),
        MODEL,
      ),
      chatRequestDigest(request({ temperature: 0 }), 'openai/gpt-4o'),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });
});

describe('semantic scope and prompt text', () => {
  it('keeps instructions and parameters in the scope and the conversation in the text', () => {
    const asked = request({
      temperature: 0,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '  What is Redis? ' },
      ],
    });
    expect(semanticPromptText(asked)).toBe('user: What is Redis?');
    const otherSystem = request({
      temperature: 0,
      messages: [
        { role: 'system', content: 'Be verbose.' },
        { role: 'user', content: 'What is Redis?' },
      ],
    });
    expect(semanticScopeDigest(otherSystem, MODEL)).not.toBe(semanticScopeDigest(asked, MODEL));
    const otherQuestion = request({
      temperature: 0,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is Valkey?' },
      ],
    });
    expect(semanticScopeDigest(otherQuestion, MODEL)).toBe(semanticScopeDigest(asked, MODEL));
  });

  it('has no text for a prompt with an image', () => {
    const withImage = request({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
    });
    expect(semanticPromptText(withImage)).toBeNull();
  });
});

describe('embeddingInputDigest', () => {
  it('depends on the input, the model and the dimensions', () => {
    const digest = embeddingInputDigest('a', 'openai/text-embedding-3-small', undefined);
    expect(embeddingInputDigest('a', 'openai/text-embedding-3-small', undefined)).toBe(digest);
    expect(embeddingInputDigest('b', 'openai/text-embedding-3-small', undefined)).not.toBe(digest);
    expect(embeddingInputDigest('a', 'openai/text-embedding-3-large', undefined)).not.toBe(digest);
    expect(embeddingInputDigest('a', 'openai/text-embedding-3-small', 256)).not.toBe(digest);
  });
});
