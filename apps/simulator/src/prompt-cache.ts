import { createHash } from 'node:crypto';

/**
 * A prompt cache per API key, reporting what a real provider would read from its cache.
 *
 * The rule: a prompt (the request's messages or contents serialised in order, as tokens) is cut
 * into whole blocks of 128 tokens. Its cached count is the length of the longest run of leading
 * blocks it shares with any prompt sent on the same key in the last 5 minutes, and only when that
 * run is at least 1,024 tokens (OpenAI's documented minimum); otherwise 0. The model plays no
 * part. Every prompt sent refreshes its own blocks for another 5 minutes.
 *
 * Bounded: a key remembers one hash per leading-block prefix (a running hash, so a prefix of n
 * blocks is one entry, not n blocks of tokens), at most `maxPrefixesPerKey` of them, the oldest
 * dropped first. A lookup costs one hash per block: linear in the prompt. A prefix's hash chains
 * every block before it, so finding the hash of n blocks proves all n are shared.
 */

/** Tokens per cache block: OpenAI caches prompt prefixes in increments of 128 tokens. */
export const PROMPT_CACHE_BLOCK_TOKENS = 128;
/** Shortest shared prefix reported as cached: OpenAI's documented minimum. */
export const PROMPT_CACHE_MIN_TOKENS = 1024;
/** How long a prompt's blocks stay cached after it was last sent, ms. */
export const PROMPT_CACHE_TTL_MS = 5 * 60_000;
/** Prefixes remembered per key: 32,768 blocks, 4 M tokens of distinct prompt prefixes. */
export const MAX_CACHED_PREFIXES_PER_KEY = 32_768;

/** Bytes of each running hash kept: 128 bits, collisions are out of reach. */
const HASH_BYTES = 16;

/** The running hash of every whole-block prefix of `tokens`: entry i covers blocks 0..i. */
function blockPrefixHashes(tokens: readonly number[]): string[] {
  const hashes: string[] = [];
  let previous = Buffer.alloc(0);
  for (let start = 0; start + PROMPT_CACHE_BLOCK_TOKENS <= tokens.length; start += PROMPT_CACHE_BLOCK_TOKENS) {
    const block = Uint32Array.from(tokens.slice(start, start + PROMPT_CACHE_BLOCK_TOKENS));
    previous = createHash('sha256').update(previous).update(block).digest().subarray(0, HASH_BYTES);
    hashes.push(previous.toString('base64'));
  }
  return hashes;
}

/**
 * Prefix hashes by key, each mapped to its expiry time. A Map keeps insertion order and every
 * entry lives the same TTL, so the oldest entry is always the first: expiry and the size cap both
 * drop from the front.
 */
export class PromptCache {
  private readonly prefixesByKey = new Map<string, Map<string, number>>();
  private readonly ttlMs: number;
  private readonly maxPrefixesPerKey: number;

  constructor(ttlMs: number = PROMPT_CACHE_TTL_MS, maxPrefixesPerKey: number = MAX_CACHED_PREFIXES_PER_KEY) {
    this.ttlMs = ttlMs;
    this.maxPrefixesPerKey = maxPrefixesPerKey;
  }

  /**
   * The cached tokens of a prompt sent on `key` at `now` (monotonic ms), then remembers it.
   * `reportedPromptTokens` is the prompt count the answer reports: the cached count never passes
   * it, rounded down to whole blocks, so usage stays consistent whatever the serialisation costs.
   */
  use(key: string, promptTokens: readonly number[], reportedPromptTokens: number, now: number): number {
    const prefixes = this.prefixesFor(key);
    for (const [hash, expiresAt] of prefixes) {
      if (expiresAt > now) break;
      prefixes.delete(hash);
    }
    const hashes = blockPrefixHashes(promptTokens);
    let sharedBlocks = 0;
    hashes.forEach((hash, index) => {
      if (prefixes.has(hash)) sharedBlocks = index + 1;
    });
    // Longest prefix first, so that the cap drops a prompt's long tails before the short prefixes
    // other prompts are likelier to share. Deleted first so that a refreshed prefix moves to the
    // back, with the newest entries.
    for (const hash of [...hashes].reverse()) {
      prefixes.delete(hash);
      prefixes.set(hash, now + this.ttlMs);
    }
    for (const hash of prefixes.keys()) {
      if (prefixes.size <= this.maxPrefixesPerKey) break;
      prefixes.delete(hash);
    }
    const reportedBlocks = Math.floor(reportedPromptTokens / PROMPT_CACHE_BLOCK_TOKENS);
    const cached = Math.min(sharedBlocks, reportedBlocks) * PROMPT_CACHE_BLOCK_TOKENS;
    return cached >= PROMPT_CACHE_MIN_TOKENS ? cached : 0;
  }

  /** Forgets every key's prompts. */
  clear(): void {
    this.prefixesByKey.clear();
  }

  private prefixesFor(key: string): Map<string, number> {
    let prefixes = this.prefixesByKey.get(key);
    if (prefixes === undefined) {
      prefixes = new Map();
      this.prefixesByKey.set(key, prefixes);
    }
    return prefixes;
  }
}
