/**
 * Inputs whose processing cost is easy to get wrong: for each character class, one unbroken run
 * the tokenizer's pre-splitter cannot break (byte-pair encoding is quadratic in such a run).
 * Shared by the tokenizer's tests, the API fuzz and `pnpm bench:hostile`.
 */

/** A deterministic pseudo-random sequence, so every run sends the same bytes. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
}

function pick(alphabet: readonly string[], length: number, seed = 7): string {
  const next = lcg(seed);
  let text = '';
  while (text.length < length) text += alphabet[Math.floor(next() * alphabet.length)] ?? '';
  return text.slice(0, length);
}

const range = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) => String.fromCodePoint(from + index));

/**
 * Ordinary text at its dearest to count: words of 1-10 random letters with spaces and full stops,
 * none of them a whole token (like identifiers, codes or a language the vocabulary lacks).
 */
export function ordinaryText(length: number, seed = 1): string {
  const next = lcg(seed);
  let text = '';
  while (text.length < length) {
    const letters = 1 + Math.floor(next() * 10);
    for (let index = 0; index < letters; index += 1) text += String.fromCharCode(97 + Math.floor(next() * 26));
    text += next() < 0.1 ? '. ' : ' ';
  }
  return text.slice(0, length);
}

const COMMON_WORDS = (
  'the of and to in is was for on that with as by it at from this be are or an have not which but had they his ' +
  'her were one all there their has been if more when will would who so no can said its into than them only some ' +
  'could these two may first then do any like other about over such out made time after also what most very new'
).split(' ');

/** English-like prose of common words: most of its words are whole tokens, the cheapest text to count. */
export function englishProse(length: number, seed = 5): string {
  const next = lcg(seed);
  let text = '';
  let sentenceStart = true;
  while (text.length < length) {
    const word = COMMON_WORDS[Math.floor(next() * COMMON_WORDS.length)] ?? 'the';
    text += sentenceStart ? word.charAt(0).toUpperCase() + word.slice(1) : word;
    const roll = next();
    sentenceStart = roll < 0.08;
    text += sentenceStart ? '. ' : roll < 0.12 ? ', ' : ' ';
  }
  return text.slice(0, length);
}

/** Unbroken runs by character class; each maker returns `length` UTF-16 code units. */
export const UNBROKEN_RUNS: Record<string, (length: number) => string> = {
  'one letter': (length) => 'x'.repeat(length),
  'one capital': (length) => 'X'.repeat(length),
  'random letters': (length) => pick(range(0x61, 26), length),
  'one dash': (length) => '-'.repeat(length),
  'random punctuation': (length) => pick([...'!?#%&*+,.;<=>@^_|~-()[]{}'], length),
  spaces: (length) => ' '.repeat(length),
  'random whitespace': (length) => pick([' ', '\t', '\n', '\r', '\u00a0', '\u3000'], length),
  'newlines and slashes': (length) => `!${pick(['\n', '/'], length - 1)}`,
  digits: (length) => pick(range(0x30, 10), length),
  'random CJK': (length) => pick(range(0x4e00, 20_000), length),
  'random emoji': (length) => pick(range(0x1f300, 700), length / 2).slice(0, length),
  'combining marks': (length) => `a${pick(range(0x300, 112), length - 1)}`,
};
