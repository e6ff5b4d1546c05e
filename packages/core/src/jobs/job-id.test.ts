import { describe, expect, it } from 'vitest';
import { createJobId, encodeJobIdTime, isJobId, lowestJobIdAt } from './job-id.js';

describe('job ids', () => {
  it('have the job_ prefix, a fixed length and our alphabet', () => {
    const id = createJobId();
    expect(id).toMatch(/^job_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isJobId(id)).toBe(true);
    expect(isJobId('job_abc')).toBe(false);
    expect(isJobId(`${id}x`)).toBe(false);
  });

  it('sort by creation time as plain strings', () => {
    const times = [0, 1, 31, 32, 1_000, 1_763_683_200_000, 1_763_683_200_001, 4_102_444_800_000];
    const ids = times.map((time) => createJobId(time));
    expect([...ids].sort()).toEqual(ids);
    expect(encodeJobIdTime(32)).toBe('0000000010');
  });

  it('are unique', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => createJobId(1_000)));
    expect(ids.size).toBe(10_000);
  });

  it('bound ranges: every id made at or after a time is above lowestJobIdAt', () => {
    expect(createJobId(5_000) > lowestJobIdAt(5_000)).toBe(true);
    expect(createJobId(4_999) < lowestJobIdAt(5_000)).toBe(true);
  });
});
