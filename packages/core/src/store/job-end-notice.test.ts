import { describe, expect, it } from 'vitest';
import { noticeFields, parseEndNotice } from './job-end-notice.js';

/** The outbox entry a transition writes: id and status, then the `@` fields without their `@`. */
const entry = (extra: Record<string, string> = {}) => [
  'id',
  'job_1',
  'status',
  'failed',
  ...Object.entries(extra).flatMap(([name, value]) => [name.replace(/^@/, ''), value]),
];

describe('parseEndNotice', () => {
  it('reads an entry with nothing but the id and status', () => {
    expect(parseEndNotice('acme', entry())).toEqual({
      tenant: 'acme',
      jobId: 'job_1',
      status: 'failed',
      type: null,
      spend: null,
      cache: null,
      model: null,
      createdAt: null,
      startedAt: null,
      finishedAt: null,
    });
  });

  it('reads the model and times, and leaves out a time that is not one rather than the notice', () => {
    const notice = parseEndNotice(
      'acme',
      entry({ model: 'fast', created_at: '1000', started_at: 'soon', finished_at: '2500' }),
    );
    expect(notice).toMatchObject({ model: 'fast', createdAt: 1_000, startedAt: null, finishedAt: 2_500 });
  });

  it('round-trips what noticeFields writes', () => {
    const vector = new Float32Array([1, -2, 0.5]);
    const notice = parseEndNotice('acme', entry(noticeFields({ type: 'embedding', cache: { model: 'm/x', vector } })));
    expect(notice).toMatchObject({ type: 'embedding', cache: { model: 'm/x', vector } });
  });

  it('says batch or flex for an end answered by a provider batch line or a flex call, and nothing for the others', () => {
    expect(parseEndNotice('acme', entry(noticeFields({ type: 'chat', path: 'batch' })))?.path).toBe('batch');
    expect(parseEndNotice('acme', entry(noticeFields({ type: 'chat', path: 'flex' })))?.path).toBe('flex');
    expect(parseEndNotice('acme', entry(noticeFields({ type: 'chat', path: 'sync' })))).not.toHaveProperty('path');
    // The account that answered rides along for the per-account metrics.
    expect(parseEndNotice('acme', entry(noticeFields({ type: 'chat', account: 'team-a' })))?.account).toBe('team-a');
    expect(parseEndNotice('acme', entry(noticeFields({ type: 'chat' })))).not.toHaveProperty('account');
  });

  it.each([
    ['an unknown status', ['id', 'job_1', 'status', 'queued']],
    ['no id', ['status', 'failed']],
  ])('is null for an entry that is not a job end: %s', (_name, fields) => {
    expect(parseEndNotice('acme', fields)).toBeNull();
  });

  it.each([
    ['an unknown type', { type: 'image' }, 'type'],
    ['a spend that is not JSON', { spend: '{' }, 'spend'],
    ['a spend of the wrong shape', { spend: '{"tenant":1}' }, 'spend'],
    ['an empty cache model', { cache_model: '' }, 'cache_model'],
    ['a vector that is not base64', { cache_model: 'm/x', cache_vector: '%%' }, 'cache_vector'],
    ['an unknown path', { path: 'carrier-pigeon' }, 'path'],
  ])('keeps the job end and names the field it leaves out: %s', (_name, extra, field) => {
    const unreadable: string[] = [];
    const notice = parseEndNotice('acme', entry({ ...extra, model: 'fast' }), (name) => unreadable.push(name));
    expect(notice).toMatchObject({ jobId: 'job_1', status: 'failed', model: 'fast' });
    expect(unreadable).toEqual([field]);
  });

  it('drops a vector whose bytes are not whole floats, and keeps the cache model', () => {
    const notice = parseEndNotice(
      'acme',
      entry({ cache_model: 'm/x', cache_vector: Buffer.from([1, 2, 3]).toString('base64') }),
    );
    expect(notice?.cache).toEqual({ model: 'm/x', vector: null });
  });
});
