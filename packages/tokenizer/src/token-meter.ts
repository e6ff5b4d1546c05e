import { setImmediate as nextTurn } from 'node:timers/promises';
import { countSegmentTokens, tokenizerSegments } from './bounded-token-count.js';

/**
 * Characters tokenized between two turns given back to the event loop: about 3 ms of prose and
 * at most about 15 ms of the dearest input (random CJK), so a 4 MiB prompt never holds the API or
 * a worker for longer than that at a time.
 */
export const TOKENIZE_SLICE_CHARS = 16_384;

/**
 * Counts o200k_base tokens like `countTextTokens`, but pauses for the event loop after every
 * `TOKENIZE_SLICE_CHARS` characters, counted across every call on the same meter. Counting is
 * CPU work a request can make as large as the body limit; paused this way it delays other
 * requests by a slice at most instead of by the whole count. Short texts never pause.
 */
export class TokenMeter {
  #sincePause = 0;

  async countText(text: string): Promise<number> {
    let tokens = 0;
    for (const segment of tokenizerSegments(text)) {
      tokens += countSegmentTokens(segment);
      this.#sincePause += segment.length;
      if (this.#sincePause >= TOKENIZE_SLICE_CHARS) {
        this.#sincePause = 0;
        await nextTurn();
      }
    }
    return tokens;
  }
}
