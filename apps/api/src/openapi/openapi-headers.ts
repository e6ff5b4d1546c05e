type JsonSchema = Record<string, unknown>;

/** Response headers the API sends: their value's schema, and whether every answer that declares one carries it. */
const RESPONSE_HEADERS: Record<string, { schema: JsonSchema; required: boolean }> = {
  'Retry-After': { schema: { type: 'integer', minimum: 1 }, required: true },
  Location: { schema: { type: 'string' }, required: true },
  'WWW-Authenticate': { schema: { type: 'string', pattern: '^Bearer ' }, required: true },
  'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] }, required: false },
  // Absent when the rate limit is off (LLMQ_API_RATE_LIMIT=0) or Redis did not answer the count.
  'RateLimit-Limit': { schema: { type: 'integer', minimum: 1 }, required: false },
  'RateLimit-Remaining': { schema: { type: 'integer', minimum: 0 }, required: false },
};

/** The Header Objects of an answer's headers (name -> description). */
export function responseHeaders(headers: Record<string, string> | undefined): JsonSchema | undefined {
  if (headers === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(headers).map(([name, description]) => {
      const known = RESPONSE_HEADERS[name];
      return [name, { description, required: known?.required ?? false, schema: known?.schema ?? { type: 'string' } }];
    }),
  );
}
