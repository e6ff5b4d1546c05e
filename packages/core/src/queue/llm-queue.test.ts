import { describe, expect, it } from 'vitest';
import { llmJobOptions } from './llm-queue.js';

describe('llmJobOptions', () => {
  it('keeps finished entries as long as the records by default (7 days), by age only', () => {
    const options = llmJobOptions({});
    expect(options.removeOnComplete).toEqual({ age: 7 * 24 * 3600 });
    expect(options.removeOnFail).toEqual({ age: 7 * 24 * 3600 });
  });

  it('follows the retention it is given (LLMQ_RETENTION_SECONDS in ms)', () => {
    const options = llmJobOptions({ keepFinishedMs: 90_000_500 });
    expect(options.removeOnComplete).toEqual({ age: 90_000 });
    expect(options.removeOnFail).toEqual({ age: 90_000 });
  });
});
