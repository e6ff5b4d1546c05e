import { countTokens, encode } from 'gpt-tokenizer';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

/**
 * Byte-pair encoding costs time quadratic in the length of one pre-tokenizer piece (a run of
 * letters, punctuation or spaces with no break): 16,000 CJK characters take 3 s, 16,000 `x` half
 * a second, where 16,000 characters of prose take under 10 ms. Pieces longer than this are cut
 * into chunks of this many characters before encoding. Ordinary text has no piece this long
 * (words, numbers and URL parts are far shorter), so its count is exactly the tokenizer's; a cut
 * piece is counted high by at most one token per chunk. 64 keeps a 4 MiB run of random CJK
 * within 3x of prose of the same size (measured by `pnpm bench:hostile`).
 */
export const MAX_PIECE_CHARS = 64;

/** Characters of ordinary pieces encoded in one call: long enough to amortise the call, short enough to pause between. */
const SEGMENT_CHARS = 16_384;

/** Special-token text such as "<|endoftext|>" in user content is plain text to OpenAI, not an error. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

// A cut between the two halves of a surrogate pair would turn one emoji into two U+FFFD.
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function* chunksOf(piece: string, size: number): Generator<string> {
  let start = 0;
  while (start < piece.length) {
    let end = Math.min(start + size, piece.length);
    if (end < piece.length && isLowSurrogate(piece.charCodeAt(end))) end -= 1;
    yield piece.slice(start, end);
    start = end;
  }
}

/**
 * Cuts `text` into consecutive segments whose concatenation is `text`, each cut on a boundary of
 * the o200k pre-tokenizer, so that encoding the segments one by one gives the tokens of the
 * whole, except that a piece longer than `MAX_PIECE_CHARS` comes out in chunks of that size.
 * Linear in the text's length: the pre-tokenizer's regex makes one pass, and nothing it matches
 * reaches the byte-pair encoder longer than `MAX_PIECE_CHARS`.
 */
export function* tokenizerSegments(text: string): Generator<string> {
  if (text.length <= MAX_PIECE_CHARS) {
    if (text.length > 0) yield text;
    return;
  }
  let segmentStart = 0;
  for (const match of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
    const pieceEnd = match.index + match[0].length;
    if (match[0].length > MAX_PIECE_CHARS) {
      if (match.index > segmentStart) yield text.slice(segmentStart, match.index);
      yield* chunksOf(match[0], MAX_PIECE_CHARS);
      segmentStart = pieceEnd;
    } else if (pieceEnd - segmentStart >= SEGMENT_CHARS) {
      yield text.slice(segmentStart, pieceEnd);
      segmentStart = pieceEnd;
    }
  }
  if (segmentStart < text.length) yield text.slice(segmentStart);
}

// Chunks of a long run repeat (a run of one character is one chunk over and over); counting them
// here spares the tokenizer's own LRU cache, whose hits get 10x dearer once 60,000 distinct
// chunks have passed through it (measured: 62,500 hits of one chunk, 0.1 s before, 0.9 s after).
const chunkCounts = new Map<string, number>();
const MAX_CHUNK_COUNTS = 4_096;

/** Tokens of one segment from `tokenizerSegments`, with o200k_base and special tokens as plain text. */
export function countSegmentTokens(segment: string): number {
  if (segment.length !== MAX_PIECE_CHARS) return countTokens(segment, PLAIN_TEXT);
  let tokens = chunkCounts.get(segment);
  if (tokens === undefined) {
    tokens = countTokens(segment, PLAIN_TEXT);
    if (chunkCounts.size >= MAX_CHUNK_COUNTS) chunkCounts.clear();
    chunkCounts.set(segment, tokens);
  }
  return tokens;
}

/** o200k_base tokens of `text`, in time linear in its length (see `MAX_PIECE_CHARS`). */
export function countTextTokens(text: string): number {
  let tokens = 0;
  for (const segment of tokenizerSegments(text)) tokens += countSegmentTokens(segment);
  return tokens;
}

/** o200k_base token ids of `text`, in time linear in its length (see `MAX_PIECE_CHARS`). */
export function encodeText(text: string): number[] {
  const tokens: number[] = [];
  for (const segment of tokenizerSegments(text)) {
    for (const token of encode(segment, PLAIN_TEXT)) tokens.push(token);
  }
  return tokens;
}
