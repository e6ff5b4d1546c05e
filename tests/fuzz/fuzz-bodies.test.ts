import { describe, expect, it } from 'vitest';
import { mutate } from './fuzz-bodies.js';

describe('mutate', () => {
  it('serialises when two mutations carry the same object (it once made a circular body and failed a run)', () => {
    const job = { type: 'chat', request: { model: 'openai/m', messages: [{ role: 'user', content: 'hi' }] } };
    const shared = { nested: { value: 1 } };
    for (let pick = 0; pick < 30; pick += 1) {
      const body = mutate(job, [
        { kind: 'replace', pick: 0, value: shared },
        { kind: 'add-key', pick, key: 'again', value: shared },
      ]);
      expect(() => JSON.parse(body) as unknown).not.toThrow();
    }
  });
});
