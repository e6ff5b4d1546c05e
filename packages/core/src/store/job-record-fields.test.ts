import { describe, expect, it } from 'vitest';
import { CorruptJobRecordError, parseJobRecord, parseWebhookFields, RECORD_FIELD } from './job-record-fields.js';

const stored = (extra: Record<string, string> = {}): Record<string, string> => ({
  [RECORD_FIELD.id]: 'job_1',
  [RECORD_FIELD.tenant]: 'acme',
  [RECORD_FIELD.status]: 'queued',
  [RECORD_FIELD.submission]: JSON.stringify({
    type: 'chat',
    request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  }),
  [RECORD_FIELD.createdAt]: '1763683200123',
  [RECORD_FIELD.attempts]: '0',
  [RECORD_FIELD.webhookUrl]: '',
  ...extra,
});

describe('parseJobRecord', () => {
  it('reads a new record with every optional field unset', () => {
    expect(parseJobRecord(stored())).toMatchObject({
      id: 'job_1',
      status: 'queued',
      createdAt: 1_763_683_200_123,
      startedAt: null,
      attempts: 0,
      modelIndex: 0,
      modelAttempts: 0,
      waitingFor: null,
      attemptLog: [],
      result: null,
      webhookStatus: null,
      webhookDeliveries: [],
      spend: { costNano: null, savedNano: null, costUnknown: null, cached: null },
    });
  });

  it('reads what the writers put there: counters, times with a fraction, JSON fields, the current model’s attempts', () => {
    const record = parseJobRecord(
      stored({
        [RECORD_FIELD.status]: 'failed',
        [RECORD_FIELD.startedAt]: '1763683201000.25',
        [RECORD_FIELD.modelIndex]: '1',
        [RECORD_FIELD.modelAttempts(0)]: '3',
        [RECORD_FIELD.modelAttempts(1)]: '2',
        [RECORD_FIELD.error]: JSON.stringify({ type: 'internal', message: 'gave up' }),
        [RECORD_FIELD.attemptLog]: JSON.stringify([
          { model: 'openai/gpt-4o-mini', status: 'failed', started_at: 1.5, duration_ms: 3 },
        ]),
        // Redis's cjson writes keys in any order; the reader restores the documented one.
        [RECORD_FIELD.webhookDeliveries]: JSON.stringify([
          { error: null, outcome: 'delivered', attempt: 1, duration_ms: 4, status_code: 200, attempted_at: 2 },
        ]),
        [RECORD_FIELD.webhookStatus]: 'delivered',
        [RECORD_FIELD.cacheSimilarity]: '0.9712',
        [RECORD_FIELD.cost]: '-5',
      }),
    );
    expect(record).toMatchObject({
      startedAt: 1_763_683_201_000.25,
      modelIndex: 1,
      modelAttempts: 2,
      error: { type: 'internal', message: 'gave up' },
      webhookStatus: 'delivered',
      spend: { cacheSimilarity: 0.9712, costNano: -5 },
    });
    expect(Object.keys(record?.webhookDeliveries[0] ?? {})).toEqual([
      'attempt',
      'attempted_at',
      'outcome',
      'status_code',
      'duration_ms',
      'error',
    ]);
  });

  it('keeps the cached input tokens of the usage, and leaves them out when none were written', () => {
    const usage = { input_tokens: 2_000, output_tokens: 5, cached_input_tokens: 1_920 };
    expect(parseJobRecord(stored({ [RECORD_FIELD.usage]: JSON.stringify(usage) }))?.usage).toEqual(usage);
    const plain = { input_tokens: 3, output_tokens: 4 };
    expect(parseJobRecord(stored({ [RECORD_FIELD.usage]: JSON.stringify(plain) }))?.usage).toEqual(plain);
  });

  it('is null without a record', () => {
    expect(parseJobRecord({})).toBeNull();
    expect(parseJobRecord({ [RECORD_FIELD.status]: 'queued' })).toBeNull();
  });

  it.each([
    ['status', { [RECORD_FIELD.status]: 'done' }],
    ['created_at', { [RECORD_FIELD.createdAt]: 'yesterday' }],
    ['attempts', { [RECORD_FIELD.attempts]: '1.5' }],
    ['submission', { [RECORD_FIELD.submission]: '{"type":"image"}' }],
    ['submission', { [RECORD_FIELD.submission]: '{not json' }],
    ['error', { [RECORD_FIELD.error]: JSON.stringify({ type: 'oops', message: 'x' }) }],
    ['usage', { [RECORD_FIELD.usage]: JSON.stringify({ input_tokens: '3', output_tokens: 4 }) }],
    ['result', { [RECORD_FIELD.result]: JSON.stringify({ object: 'image' }) }],
    ['waiting_for', { [RECORD_FIELD.waitingFor]: 'coffee' }],
    ['cached', { [RECORD_FIELD.cached]: 'maybe' }],
  ])('names the field that does not parse: %s', (field, extra) => {
    let thrown: unknown;
    try {
      parseJobRecord(stored(extra));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CorruptJobRecordError);
    expect((thrown as Error).message).toMatch(new RegExp(`^job record job_1 is corrupt: ${field}\\b`));
  });
});

describe('parseWebhookFields', () => {
  it('reads HMGET’s answer, with no record as null', () => {
    expect(parseWebhookFields('job_1', ['succeeded', 'https://example.com/h', null])).toEqual({
      status: 'succeeded',
      webhookUrl: 'https://example.com/h',
      webhookStatus: null,
    });
    expect(parseWebhookFields('job_1', ['failed', null, 'gone'])).toMatchObject({
      webhookUrl: null,
      webhookStatus: 'gone',
    });
    expect(parseWebhookFields('job_1', [null, null, null])).toBeNull();
    expect(() => parseWebhookFields('job_1', ['done', null, null])).toThrow(CorruptJobRecordError);
  });
});
