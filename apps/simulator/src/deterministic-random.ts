import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted, so two requests that differ only in key order hash the same.
 * `undefined` members are dropped exactly as `JSON.stringify` drops them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${members.join(',')}}`;
}

/** Hex SHA-256 of the canonical JSON of `value`: the root of every simulated id and reply. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** The first 32 bits of a hex hash, as an unsigned integer seed. */
export function seedFromHash(hash: string): number {
  return Number.parseInt(hash.slice(0, 8), 16) >>> 0;
}

/**
 * mulberry32: tiny, fast and good enough for placeholder words and vectors; what matters here is
 * that the same seed gives the same sequence on every platform, not statistical quality.
 * Returns a function yielding numbers in [0, 1).
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Words the reply generator draws from; plain ASCII so each is one or two tokens. */
export const PLACEHOLDER_WORDS: readonly string[] = [
  'alpha bravo cobalt delta ember fjord granite harbor indigo juniper kelp lantern meadow nebula orchid pebble',
  'quartz river saffron timber umber velvet willow xenon yarrow zephyr anchor beacon canyon dune echo falcon',
  'glacier horizon island jasper kernel lagoon marble nectar ocean prairie quiver ridge summit tundra upland valley',
  'wander yonder zenith amber breeze cedar drift fern grove hollow ivory jungle kindle lumen maple north',
]
  .join(' ')
  .split(' ');

/** `count` words picked by `random`. */
export function pickWords(random: () => number, count: number): string[] {
  const words: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const word = PLACEHOLDER_WORDS[Math.floor(random() * PLACEHOLDER_WORDS.length)];
    if (word !== undefined) words.push(word);
  }
  return words;
}
