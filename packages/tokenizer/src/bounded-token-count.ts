import { decode } from 'gpt-tokenizer';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { encodePiece } from './byte-pair-counter.js';

/**
 * Byte-pair encoding costs time quadratic in the length of one pre-tokenizer piece (a run of
 * letters, punctuation or spaces with no break): 16,000 CJK characters took 3 s, 16,000 `x` half
 * a second, where 16,000 characters of prose take under 10 ms. Pieces longer than this are cut
 * into chunks of this many characters before encoding. Ordinary text has no piece this long
 * (words, numbers and URL parts are far shorter), so its count is exactly the tokenizer's; a cut
 * piece is counted high by at most one token per chunk. 64 keeps a 4 MiB run of random CJK
 * within 3x of ordinary text of the same size (measured by `pnpm bench:hostile`).
 */
export const MAX_PIECE_CHARS = 64;

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
 * Characters the pre-tokenizer's regex sees at once. One regex match can run over a whole window
 * (`\s*[\r\n]+` swallows a 4 MB run of mixed whitespace in one go), so windows bound each match.
 */
export const WINDOW_CHARS = 65_536;

const WHITESPACE = /\s/;

/**
 * Where the window starting at `start` ends: before the last ASCII space that follows a
 * non-space character, which always begins a new piece (a word's leading space, or a run of
 * spaces). A window with none (a hostile run, or CJK with no spaces) is cut at its full length:
 * one token or so of error per 65,536 characters.
 */
function windowEnd(text: string, start: number): number {
  const limit = start + WINDOW_CHARS;
  if (limit >= text.length) return text.length;
  for (let index = limit; index > start + 1; index -= 1) {
    if (text.charCodeAt(index) === 0x20 && !WHITESPACE.test(text.charAt(index - 1))) return index;
  }
  return isLowSurrogate(text.charCodeAt(limit)) ? limit - 1 : limit;
}

/**
 * The o200k pre-tokenizer's pieces of `text`, in order, a piece longer than `MAX_PIECE_CHARS`
 * in chunks of that size. Linear in the text: the regex runs over windows of at most
 * `WINDOW_CHARS`, and each of its alternatives backtracks at most over the run it then consumes.
 */
export function* tokenizerPieces(text: string): Generator<string> {
  for (let start = 0; start < text.length;) {
    const end = windowEnd(text, start);
    const window = start === 0 && end === text.length ? text : text.slice(start, end);
    for (const match of window.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
      if (match[0].length > MAX_PIECE_CHARS) yield* chunksOf(match[0], MAX_PIECE_CHARS);
      else yield match[0];
    }
    start = end;
  }
}

// Chunks of a long run repeat (a run of one character is one chunk over and over).
const chunkCounts = new Map<string, number>();
const MAX_CHUNK_COUNTS = 4_096;

/** Tokens of one piece from `tokenizerPieces`. */
export function countPieceTokens(piece: string): number {
  if (piece.length < MAX_PIECE_CHARS) return encodePiece(piece).length;
  let tokens = chunkCounts.get(piece);
  if (tokens === undefined) {
    tokens = encodePiece(piece).length;
    if (chunkCounts.size >= MAX_CHUNK_COUNTS) chunkCounts.clear();
    chunkCounts.set(piece, tokens);
  }
  return tokens;
}

/** o200k_base tokens of `text` (special tokens as plain text), in time linear in its length. */
export function countTextTokens(text: string): number {
  let tokens = 0;
  for (const piece of tokenizerPieces(text)) tokens += countPieceTokens(piece);
  return tokens;
}

/** o200k_base token ids of `text` (special tokens as plain text), in time linear in its length. */
export function encodeText(text: string): number[] {
  const tokens: number[] = [];
  for (const piece of tokenizerPieces(text)) for (const token of encodePiece(piece)) tokens.push(token);
  return tokens;
}

/** The text of o200k_base token ids. */
export function decodeTokens(tokens: readonly number[]): string {
  return decode(tokens);
}
