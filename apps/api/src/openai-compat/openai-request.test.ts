import { describe, expect, it } from 'vitest';
import { createJobSubmissionSchema, createModelCatalog, llmqConfigSchema } from '@llmq/core';
import { OpenAiError } from './openai-error.js';
import { chatSubmission, embeddingSubmission, parseSubmission } from './openai-request.js';

const catalog = createModelCatalog(llmqConfigSchema.parse({}));
const schema = createJobSubmissionSchema(catalog);
const messages = [{ role: 'user', content: 'hi' }];

const refusal = (run: () => unknown): OpenAiError => {
  try {
    run();
  } catch (error) {
    if (error instanceof OpenAiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('chatSubmission', () => {
  it('takes stream options off the job request and llmq options onto the job', () => {
    const { submission, answer } = chatSubmission(catalog, {
      model: 'openai/gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      llmq: { attempts: 2, metadata: { doc: '42' }, completion_window: '24h' },
    });
    expect(answer).toEqual({ stream: true, includeUsage: true });
    expect(parseSubmission(schema, submission)).toEqual({
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages },
      attempts: 2,
      metadata: { doc: '42' },
      completion_window: '24h',
    });
  });

  it('names the field at fault as the client sent it', () => {
    const { submission } = chatSubmission(catalog, { model: 'openai/gpt-4o-mini', messages, temperature: 9 });
    expect(refusal(() => parseSubmission(schema, submission)).body.error.param).toBe('temperature');
    const withOption = chatSubmission(catalog, { model: 'openai/gpt-4o-mini', messages, llmq: { attempts: 0 } });
    expect(refusal(() => parseSubmission(schema, withOption.submission)).body.error.param).toBe('llmq.attempts');
    expect(
      refusal(() => chatSubmission(catalog, { model: 'x/y', messages, llmq: { type: 'embedding' } })),
    ).toMatchObject({ status: 400, options: { param: 'llmq.type' } });
  });

  it('is a 404 model_not_found for a model of no provider or alias', () => {
    expect(refusal(() => chatSubmission(catalog, { model: 'nowhere/model', messages }))).toMatchObject({
      status: 404,
      options: { code: 'model_not_found', param: 'model' },
    });
  });
});

describe('embeddingSubmission', () => {
  it('answers in the encoding asked for; the job stores floats', () => {
    const { submission, encoding } = embeddingSubmission(catalog, {
      model: 'openai/text-embedding-3-small',
      input: 'a',
      encoding_format: 'base64',
    });
    expect(encoding).toBe('base64');
    expect(submission).toEqual({ type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: 'a' } });
    expect(
      refusal(() => embeddingSubmission(catalog, { model: 'openai/x', input: 'a', encoding_format: 'hex' })),
    ).toMatchObject({ status: 400, options: { param: 'encoding_format' } });
  });
});
