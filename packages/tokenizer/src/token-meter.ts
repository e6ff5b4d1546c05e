import { setImmediate as nextTurn } from 'node:timers/promises';
import { countPieceTokens, tokenizerPieces } from './bounded-token-count.js';

/** Longest the meter counts before it gives the event loop a turn, in milliseconds. */
export const TOKENIZE_SLICE_MS = 5;
// Reading the clock costs about as much as counting a short piece; it is read every 64 pieces.
const PIECES_PER_CLOCK_READ = 64;

/**
 * Counts o200k_base tokens like `countTextTokens`, but gives the event loop a turn whenever it
 * has counted for `TOKENIZE_SLICE_MS`, measured across every call on the same meter. Counting is
 * CPU work a request can make as large as the body limit; paused this way it delays other
 * requests and timers by a slice at most instead of by the whole count. Short texts never pause.
 */
export class TokenMeter {
  #sliceStart = performance.now();
  #pieces = 0;

  async countText(text: string): Promise<number> {
    let tokens = 0;
    for (const piece of tokenizerPieces(text)) {
      tokens += countPieceTokens(piece);
      this.#pieces += 1;
      if (this.#pieces % PIECES_PER_CLOCK_READ === 0 && performance.now() - this.#sliceStart >= TOKENIZE_SLICE_MS) {
        await nextTurn();
        this.#sliceStart = performance.now();
      }
    }
    return tokens;
  }
}
