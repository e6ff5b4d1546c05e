import fc from 'fast-check';
import { countTokens, encode } from 'gpt-tokenizer';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { describe, expect, it } from 'vitest';
import { countTextTokens, encodeText, MAX_PIECE_CHARS, tokenizerSegments } from './bounded-token-count.js';

const plain = { disallowedSpecial: new Set<string>() };
const exact = (text: string) => countTokens(text, plain);
const longestPiece = (text: string) =>
  Math.max(0, ...Array.from(text.matchAll(O200K_TOKEN_SPLIT_REGEX), (match) => match[0].length));

/** Inputs with no break for the pre-tokenizer, one per character class (the quadratic cases). */
export const UNBROKEN_RUNS: Record<string, (length: number) => string> = {
  'lowercase x': (length) => 'x'.repeat(length),
  'uppercase X': (length) => 'X'.repeat(length),
  'random letters': (length) =>
    Array.from({ length }, (_, index) => String.fromCharCode(97 + (((index * 2654435761) >>> 7) % 26))).join(''),
  dashes: (length) => '-'.repeat(length),
  'mixed punctuation': (length) => '!?#%&*+,.;<=>@^_|~'.repeat(Math.ceil(length / 18)).slice(0, length),
  spaces: (length) => ' '.repeat(length),
  newlines: (length) => '\n'.repeat(length),
  'newlines and slashes': (length) => '!' + '\n/'.repeat(Math.ceil(length / 2)).slice(0, length - 1),
  digits: (length) => '7'.repeat(length),
  CJK: (length) =>
    Array.from({ length }, (_, index) => String.fromCodePoint(0x4e00 + ((index * 7919) % 20_000))).join(''),
  emoji: (length) => '😀🚀🎉'.repeat(Math.ceil(length / 6)).slice(0, length),
  'combining marks': (length) => 'a\u0301\u0302'.repeat(Math.ceil(length / 3)).slice(0, length),
};

const PROSE = [
  "The quick brown fox jumps over the lazy dog. It's 3:45pm and we're done!",
  'function add(a, b) {\n  return a + b;\n}\n\nconsole.log(add(1, 2)); // 3',
  '{"name":"llmq","tags":["queue","llm"],"limits":{"rpm":500,"tpm":200000}}',
  'See https://example.com/docs/getting-started?lang=en#install for details.',
  'Grüße aus Köln! Ça va? Добрый день. 你好，世界。こんにちは。안녕하세요 😀🎉',
  '   indented\n\n\n\ttabs\r\nand CRLF   \n',
  'Special tokens stay text: <|endoftext|> <|im_start|>user',
  '1234567890 3.14159 -42 1e10 0xdeadbeef',
];

describe('tokenizerSegments', () => {
  it('puts the text back together and never lets a piece past MAX_PIECE_CHARS through', () => {
    for (const [name, make] of Object.entries(UNBROKEN_RUNS)) {
      const text = `start ${make(50_000)} end`;
      const segments = Array.from(tokenizerSegments(text));
      expect(segments.join(''), name).toBe(text);
      const longest = Math.max(...segments.map(longestPiece));
      expect(longest, name).toBeLessThanOrEqual(MAX_PIECE_CHARS);
    }
  });

  it('never cuts a surrogate pair', () => {
    const text = '😀'.repeat(10_000);
    for (const segment of tokenizerSegments(text)) {
      expect(segment.charCodeAt(0) >= 0xdc00 && segment.charCodeAt(0) <= 0xdfff).toBe(false);
    }
  });
});

describe('countTextTokens', () => {
  it("is the tokenizer's exact count on ordinary text, short and long", () => {
    for (const text of PROSE) expect(countTextTokens(text)).toBe(exact(text));
    const long = PROSE.join('\n').repeat(2_000);
    expect(countTextTokens(long)).toBe(exact(long));
    expect(encodeText(long)).toEqual(encode(long, plain));
  });

  it('is exact for any text whose pieces are short', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        fc.pre(longestPiece(text) <= MAX_PIECE_CHARS);
        expect(countTextTokens(text)).toBe(exact(text));
      }),
      { numRuns: 500 },
    );
  });

  it('counts an unbroken run at most one token high per chunk, and never low', () => {
    for (const [name, make] of Object.entries(UNBROKEN_RUNS)) {
      const text = make(3_000);
      const bounded = countTextTokens(text);
      const truth = exact(text);
      expect(bounded, name).toBeGreaterThanOrEqual(truth);
      expect(bounded, name).toBeLessThanOrEqual(truth + Math.ceil(text.length / MAX_PIECE_CHARS));
    }
  });
});
