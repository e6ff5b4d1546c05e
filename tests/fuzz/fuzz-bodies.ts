import fc from 'fast-check';

/** Raw request bodies: JSON text, or bytes that are not even UTF-8. */
export type RawBody = string | Buffer;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const unicodeText = fc.string({ unit: 'grapheme', maxLength: 40 });
const anyText = fc.oneof(unicodeText, fc.string({ unit: 'binary', maxLength: 40 }));

/** JSON values of every kind, with the keys that bite when code merges objects naively. */
const riskyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '\u0000');
const jsonValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  fc.constantFrom<Json>(0, -1, 1.5, 1e308, -0, '', ' ', [], {}, true, false, null, 'chat', 'embedding'),
  fc.dictionary(fc.oneof(riskyKey, anyText), fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>, { maxKeys: 3 }),
);

const metadata = fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 });
const webhook = fc.constantFrom({ url: 'https://example.com/hooks/llmq' }, { url: 'http://127.0.0.2:9/hook' });

const chatJob = fc.record(
  {
    type: fc.constant('chat'),
    request: fc.record(
      {
        model: fc.constantFrom('openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5', 'google/gemini-2.5-flash'),
        messages: fc.array(fc.record({ role: fc.constant('user'), content: unicodeText }), {
          minLength: 1,
          maxLength: 3,
        }),
        max_tokens: fc.integer({ min: 1, max: 4096 }),
      },
      { requiredKeys: ['model', 'messages'] },
    ),
    attempts: fc.integer({ min: 1, max: 10 }),
    deadline_s: fc.integer({ min: 1, max: 3600 }),
    metadata,
    webhook,
  },
  { requiredKeys: ['type', 'request'] },
);
const embeddingJob = fc.record(
  {
    type: fc.constant('embedding'),
    request: fc.record({ model: fc.constant('openai/text-embedding-3-small'), input: fc.string({ minLength: 1 }) }),
    metadata,
  },
  { requiredKeys: ['type', 'request'] },
);

/** Job bodies the API must accept (202). */
export const validJob: fc.Arbitrary<Record<string, unknown>> = fc.oneof(chatJob, embeddingJob);

/** Every path to a value inside `value`, the root included. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const paths = [prefix];
  if (typeof value !== 'object' || value === null) return paths;
  // Own keys, not array methods: a mutation may have given an array a "constructor" key, and a
  // deleted element leaves a hole.
  for (const [key, item] of Object.entries(value)) {
    const segment = Array.isArray(value) && /^\d+$/.test(key) ? Number(key) : key;
    for (const path of pathsOf(item, [...prefix, segment])) paths.push(path);
  }
  return paths;
}

function valueAt(root: unknown, path: Array<string | number>): unknown {
  let value = root;
  for (const segment of path) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[segment] : undefined;
  }
  return value;
}

function setAt(
  root: unknown,
  path: Array<string | number>,
  update: (parent: Record<string, unknown>, key: string) => void,
) {
  const parent = valueAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last !== undefined && typeof parent === 'object' && parent !== null) {
    update(parent as Record<string, unknown>, String(last));
  }
}

// Stand-ins swapped for raw text after JSON.stringify: nesting too deep to build as objects here.
const deepMarker = (depth: number, kind: 'array' | 'object') => `\u0001deep:${kind}:${depth}\u0001`;
const expandDeep = (text: string) =>
  text.replace(/"\\u0001deep:(array|object):(\d+)\\u0001"/g, (_match, kind: string, depth: string) =>
    kind === 'array'
      ? '['.repeat(Number(depth)) + ']'.repeat(Number(depth))
      : '{"a":'.repeat(Number(depth)) + '1' + '}'.repeat(Number(depth)),
  );

type Mutation =
  | { kind: 'replace'; pick: number; value: Json }
  | { kind: 'delete'; pick: number }
  | { kind: 'add-key'; pick: number; key: string; value: Json }
  | { kind: 'huge-string'; pick: number; length: number }
  | { kind: 'deep'; pick: number; depth: number; shape: 'array' | 'object' }
  | { kind: 'duplicate-key'; key: string; value: Json };

const pick = fc.nat();
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), pick, value: jsonValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('add-key' as const),
      pick,
      key: fc.oneof(riskyKey, anyText),
      value: jsonValue,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge-string' as const),
      pick,
      length: fc.oneof(fc.integer({ min: 1_000, max: 100_000 }), fc.integer({ min: 250_000, max: 600_000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      pick,
      depth: fc.oneof(fc.integer({ min: 10, max: 2_000 }), fc.integer({ min: 10_000, max: 60_000 })),
      shape: fc.constantFrom('array' as const, 'object' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('duplicate-key' as const),
      key: fc.constantFrom('type', 'request', 'metadata', '__proto__', 'webhook'),
      value: jsonValue,
    }),
  },
);

/** A valid job with one to three mutations, serialised (deep nesting and duplicated keys as raw text). */
export function mutate(job: Record<string, unknown>, mutations: Mutation[]): string {
  const copy = structuredClone(job);
  const duplicates: string[] = [];
  for (const change of mutations) {
    const paths = pathsOf(copy).filter((path) => path.length > 0);
    const path = paths[('pick' in change ? change.pick : 0) % Math.max(1, paths.length)] ?? ['type'];
    switch (change.kind) {
      // A copy of each value: two mutations may carry the same generated object, and inserting it
      // inside itself made a circular body that JSON.stringify refused (a flaky run, 1 in 4).
      case 'replace':
        setAt(copy, path, (parent, key) => (parent[key] = structuredClone(change.value)));
        break;
      case 'delete':
        setAt(copy, path, (parent, key) => Reflect.deleteProperty(parent, key));
        break;
      case 'add-key': {
        const found = valueAt(copy, path);
        const target = typeof found === 'object' && found !== null ? found : copy;
        // defineProperty, so "__proto__" becomes an own key as JSON.parse would make it.
        Object.defineProperty(target, change.key, {
          value: structuredClone(change.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
      }
      case 'huge-string':
        setAt(copy, path, (parent, key) => (parent[key] = 'x'.repeat(change.length)));
        break;
      case 'deep':
        setAt(copy, path, (parent, key) => (parent[key] = deepMarker(change.depth, change.shape)));
        break;
      case 'duplicate-key':
        duplicates.push(`${JSON.stringify(change.key)}:${JSON.stringify(change.value)}`);
        break;
    }
  }
  const text = expandDeep(JSON.stringify(copy));
  return duplicates.length === 0 || !text.startsWith('{') ? text : `{${duplicates.join(',')},${text.slice(1)}`;
}

export const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });
export const mutatedJob: fc.Arbitrary<string> = fc
  .tuple(validJob, mutations)
  .map(([job, changes]) => mutate(job, changes));

/** Bodies that are not JSON at all, or not UTF-8, or cut short. */
export const brokenBody: fc.Arbitrary<RawBody> = fc.oneof(
  fc.constantFrom<RawBody>('', '{', '{"type":"chat",', 'null', '[]', '"chat"', '1e999', 'NaN', '{"a":1}}', '\ufeff{}'),
  anyText,
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  validJob.chain((job) => {
    const text = JSON.stringify(job);
    return fc.nat({ max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut));
  }),
);

/** What a job endpoint may be sent: mostly valid or nearly valid jobs, some garbage. */
export const jobBody: fc.Arbitrary<RawBody> = fc.oneof(
  { weight: 2, arbitrary: validJob.map((job) => JSON.stringify(job)) },
  { weight: 6, arbitrary: mutatedJob },
  { weight: 1, arbitrary: jsonValue.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: brokenBody },
);

/** `POST /v1/jobs/batch` bodies: lists of valid and mutated jobs, odd lists, too many jobs. */
export const batchBody: fc.Arbitrary<RawBody> = fc.oneof(
  { weight: 3, arbitrary: fc.array(validJob, { minLength: 1, maxLength: 4 }).map((jobs) => JSON.stringify({ jobs })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(validJob, { maxLength: 3 }), fc.array(mutatedJob, { minLength: 1, maxLength: 2 }))
      .map(([valid, mutated]) => `{"jobs":[${[...valid.map((job) => JSON.stringify(job)), ...mutated].join(',')}]}`),
  },
  { weight: 2, arbitrary: fc.tuple(validJob, mutations).map(([job, changes]) => mutate({ jobs: [job] }, changes)) },
  { weight: 1, arbitrary: jsonValue.map((jobs) => JSON.stringify({ jobs })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(1_001, 2_000)
      .map((count) => JSON.stringify({ jobs: Array.from({ length: count }, () => ({ type: 'chat' })) })),
  },
  { weight: 1, arbitrary: brokenBody },
);

/** `POST /v1/webhook-secret/rotate` bodies. */
export const rotateBody: fc.Arbitrary<RawBody | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: 0, max: 3_000_000 }).map((grace) => JSON.stringify({ grace_seconds: grace })),
  fc.tuple(fc.constant({ grace_seconds: 60 }), mutations).map(([body, changes]) => mutate(body, changes)),
  jsonValue.map((value) => JSON.stringify(value)),
  brokenBody,
);
