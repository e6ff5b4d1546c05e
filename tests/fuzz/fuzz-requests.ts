import fc from 'fast-check';
import { STACK_KEYS } from '@llmq/devkit';

/** Header values Node will send: visible ASCII and Latin-1, no line breaks. */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
      fc.integer({ min: 0xa0, max: 0xff }).map((code) => String.fromCharCode(code)),
    ),
    maxLength,
  });

const validAuthorization = `Bearer ${STACK_KEYS.alpha}`;

/** Mostly the right key; otherwise every way an Authorization header goes wrong. */
export const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 24, arbitrary: fc.constant(validAuthorization) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `bearer ${STACK_KEYS.alpha}`,
      `Bearer  ${STACK_KEYS.alpha}  `,
      `Bearer ${STACK_KEYS.alpha} extra`,
      `Bearer ${STACK_KEYS.beta}`,
      `Basic ${Buffer.from(`alpha:${STACK_KEYS.alpha}`).toString('base64')}`,
      `Bearer ${'k'.repeat(8_000)}`,
      `Bearer ${STACK_KEYS.alpha.slice(0, -1)}`,
      'Bearer \u00ff\u00fe',
    ),
  },
  { weight: 1, arbitrary: headerText(80) },
);

/** Content types a client might send, right and wrong. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 24, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json;;;',
      'application/vnd.api+json',
      'application/merge-patch+json',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      '*/*',
      'application/',
    ),
  },
  { weight: 1, arbitrary: headerText(40) },
);

/** Occasionally a body encoding the body is not actually in. */
const contentEncoding: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown', 'gzip, gzip'),
);

/** Extra headers: request ids, idempotency keys, accept, all with odd values. */
const extraHeaders = fc.dictionary(
  fc.constantFrom('x-request-id', 'idempotency-key', 'accept', 'accept-encoding', 'x-forwarded-for', 'if-none-match'),
  fc.oneof(
    { weight: 200, arbitrary: headerText(300) },
    // Past Node's 16 KiB header limit: answered by the server before Express sees it.
    { weight: 1, arbitrary: fc.constant('h'.repeat(17_000)) },
  ),
  { maxKeys: 2 },
);

/** A full header set for a request carrying a body. */
export const headersWithBody: fc.Arbitrary<Record<string, string>> = fc
  .record({ authorization, contentType, contentEncoding, extra: extraHeaders })
  .map(({ authorization: auth, contentType: type, contentEncoding: encoding, extra }) =>
    compact({ ...extra, authorization: auth, 'content-type': type, 'content-encoding': encoding }),
  );

/** Headers of a request without a body. */
export const headersWithoutBody: fc.Arbitrary<Record<string, string>> = fc
  .record({ authorization, extra: extraHeaders })
  .map(({ authorization: auth, extra }) => compact({ ...extra, authorization: auth }));

function compact(headers: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = value;
  return result;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A path segment naming a job: real ids (own and another tenant's), well-formed strangers, junk. */
export const jobIdSegment = (existing: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...existing) },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: fc.constantFrom(...CROCKFORD), minLength: 26, maxLength: 26 })
        .map((suffix) => `job_${suffix}`),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }).map(encodeURIComponent) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%C0%AF',
        '%00',
        '..',
        '%2e%2e',
        '%2F',
        'job_%2F..%2F',
        '%F0%9F%92%A9',
        'job_' + 'Z'.repeat(4_000),
        '__proto__',
        'constructor',
        'job_00000000000000000000000000',
      ),
    },
  );

/** Query strings: none, known keys with odd values, unknown and repeated keys, broken escapes. */
export const queryString = (keys: readonly string[], values: fc.Arbitrary<string>): fc.Arbitrary<string> => {
  const known = fc.array(fc.tuple(fc.constantFrom(...keys), values), { minLength: 1, maxLength: 2 });
  const mixed = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })), values), {
    maxLength: 4,
  });
  const junk = fc.constantFrom('&&', '&=', '&%', '&a=%zz', '&__proto__[x]=1', '&limit[]=2', '&constructor=1');
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    { weight: 5, arbitrary: known.map((pairs) => `?${new URLSearchParams(pairs).toString()}`) },
    {
      weight: 2,
      arbitrary: fc.tuple(mixed, junk).map(([pairs, tail]) => `?${new URLSearchParams(pairs).toString()}${tail}`),
    },
  );
};

/** Values a query parameter may get: numbers of every sort, statuses, ids, text. */
export const queryValue = (existing: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.integer({ min: -5, max: 200 }).map(String),
    fc.constantFrom('', '0', '1e2', '0x10', 'Infinity', 'NaN', '-0', '1.5', ' 5', 'queued', 'succeeded', 'nope'),
    fc.constantFrom(...existing),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
  );

/** `?wait=` values that never hold a request longer than 50 ms: tiny, invalid, or out of range. */
export const waitValue: fc.Arbitrary<string> = fc
  .oneof(
    fc.double({ min: 0, max: 0.05, noNaN: true }).map(String),
    fc.constantFrom('', '-1', '61', '1e9', 'NaN', 'Infinity', 'abc', '0', '0.01', '[]', '1,2'),
    fc.string({ maxLength: 8 }),
  )
  .filter((value) => {
    const seconds = Number(value);
    return Number.isNaN(seconds) || seconds < 0 || seconds > 60 || seconds <= 0.05;
  });
