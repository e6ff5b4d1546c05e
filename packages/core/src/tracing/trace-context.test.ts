import { ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { noticeFields, parseEndNotice } from '../store/job-end-notice.js';
import { genAiAnswerAttributes, genAiCallAttributes } from './gen-ai-attributes.js';
import { errorTypeOf } from './llmq-tracer.js';
import { contextFromTraceparent, isTraceparent, traceFields } from './trace-context.js';
import { ProviderError } from '../providers/provider-error.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** The outbox entry a transition would write from `fields`, as XREADGROUP returns it. */
const entry = (fields: Record<string, string>) => [
  'id',
  'job_1',
  'status',
  'succeeded',
  ...Object.entries(fields).flatMap(([name, value]) => [name.slice(1), value]),
];

describe('trace context without an SDK', () => {
  it('writes no traceparent: jobs queued while tracing is off carry none', () => {
    expect(traceFields()).toEqual({});
  });

  it('reads only well-formed traceparents', () => {
    expect(isTraceparent(TRACEPARENT)).toBe(true);
    expect(isTraceparent('00-xyz-00f067aa0ba902b7-01')).toBe(false);
    expect(contextFromTraceparent('garbage')).toBe(ROOT_CONTEXT);
    expect(contextFromTraceparent(undefined)).toBe(ROOT_CONTEXT);
  });
});

describe('the end notice carries the ending run’s trace context', () => {
  it('round-trips a traceparent through the outbox entry', () => {
    const fields = noticeFields({ type: 'chat', traceparent: TRACEPARENT });
    expect(parseEndNotice('alpha', entry(fields))?.traceparent).toBe(TRACEPARENT);
  });

  it('leaves out a malformed one, keeping the notice', () => {
    const notice = parseEndNotice('alpha', [...entry({ '@type': 'chat' }), 'traceparent', 'not-a-trace']);
    expect(notice?.type).toBe('chat');
    expect(notice).not.toHaveProperty('traceparent');
  });
});

describe('GenAI attributes', () => {
  it('names the operation, the provider by the conventions and the model, never the request', () => {
    expect(
      genAiCallAttributes({ type: 'chat', reference: { provider: 'google', modelId: 'gemini-2.5-flash' } }),
    ).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-2.5-flash',
    });
    expect(genAiCallAttributes({ type: 'embedding', reference: { provider: 'local', modelId: 'bge-m3' } })).toEqual({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'local',
      'gen_ai.request.model': 'bge-m3',
    });
  });

  it('gives tokens and finish reasons of an answer, none of its text', () => {
    const attributes = genAiAnswerAttributes(
      { provider: 'anthropic', modelId: 'claude-haiku-4-5' },
      {
        result: {
          id: 'msg_1',
          object: 'chat.completion',
          created: 1,
          model: 'anthropic/claude-haiku-4-5',
          provider: 'anthropic',
          choices: [
            { index: 0, message: { role: 'assistant', content: 'the secret answer' }, finish_reason: 'length' },
          ],
          usage: { prompt_tokens: 12, completion_tokens: 80, total_tokens: 92 },
        },
        usage: { input_tokens: 12, output_tokens: 80 },
      },
    );
    expect(attributes).toEqual({
      'gen_ai.response.model': 'claude-haiku-4-5',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 80,
      'gen_ai.response.finish_reasons': ['length'],
    });
  });

  it('types an error by its kind or class, never by its message', () => {
    const error = new ProviderError({ provider: 'openai', kind: 'overloaded', message: 'quoting the prompt' });
    expect(errorTypeOf(error)).toBe('overloaded');
    expect(errorTypeOf(new TypeError('x'))).toBe('TypeError');
    expect(errorTypeOf('thrown text')).toBe('_OTHER');
  });
});
