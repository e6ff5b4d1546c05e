import fc from 'fast-check';
import { countTokens, encode } from 'gpt-tokenizer';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { describe, expect, it } from 'vitest';
import { UNBROKEN_RUNS } from '@llmq/devkit';
import {
  countTextTokens,
  decodeTokens,
  encodeText,
  MAX_PIECE_CHARS,
  tokenizerPieces,
  WINDOW_CHARS,
} from './bounded-token-count.js';

const plain = { disallowedSpecial: new Set<string>() };
const exact = (text: string) => countTokens(text, plain);
const longestPiece = (text: string) =>
  Math.max(0, ...Array.from(text.matchAll(O200K_TOKEN_SPLIT_REGEX), (match) => match[0].length));

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

describe('tokenizerPieces', () => {
  it('puts the text back together and never lets a piece past MAX_PIECE_CHARS through', () => {
    for (const [name, make] of Object.entries(UNBROKEN_RUNS)) {
      const text = `start ${make(50_000)} end`;
      const pieces = Array.from(tokenizerPieces(text));
      expect(pieces.join(''), name).toBe(text);
      expect(Math.max(...pieces.map((piece) => piece.length)), name).toBeLessThanOrEqual(MAX_PIECE_CHARS);
    }
  });

  it("gives the pre-tokenizer's own pieces when none is long", () => {
    const text = PROSE.join(' ');
    expect(Array.from(tokenizerPieces(text))).toEqual(
      Array.from(text.matchAll(O200K_TOKEN_SPLIT_REGEX), (match) => match[0]),
    );
  });

  it('cuts long texts into windows only where a piece begins, so prose stays exact', () => {
    const text = PROSE.join(' ').repeat(5_000);
    expect(text.length).toBeGreaterThan(4 * WINDOW_CHARS);
    expect(Array.from(tokenizerPieces(text))).toEqual(
      Array.from(text.matchAll(O200K_TOKEN_SPLIT_REGEX), (match) => match[0]),
    );
  });

  it('never cuts a surrogate pair', () => {
    const text = '😀'.repeat(10_000);
    for (const piece of tokenizerPieces(text)) {
      expect(piece.charCodeAt(0) >= 0xdc00 && piece.charCodeAt(0) <= 0xdfff).toBe(false);
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

  it('is exact, and encodes exactly, for any text whose pieces are short', () => {
    const texts = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 400 }),
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.array(fc.constantFrom(...PROSE, ' ', '\n', 'x', '😀', 'ß'), { maxLength: 40 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(texts, (text) => {
        fc.pre(longestPiece(text) <= MAX_PIECE_CHARS);
        expect(countTextTokens(text)).toBe(exact(text));
        expect(encodeText(text)).toEqual(encode(text, plain));
      }),
      { numRuns: 1_000 },
    );
  });

  it('decodes what it encodes', () => {
    const text = PROSE.join('\n');
    expect(decodeTokens(encodeText(text))).toBe(text);
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
