import { resolveModel, type JobType, type ModelCatalog } from '@llmq/core';

type JsonSchema = Record<string, unknown>;

/**
 * The checks of `POST /v1/jobs` that z.toJSONSchema cannot see (refinements, the catalog's
 * models, the stream field that is refused), written into the generated submission schemas so
 * a validating client refuses what the server refuses. openapi.test.ts proves each one agrees
 * with the zod schema and the model-name parser.
 */

/** A model id after `<provider>/` (parseModelName): not starting or ending with "/", at most 200. */
const MODEL_ID = '[A-Za-z0-9](?:[A-Za-z0-9._:@/+-]{0,198}[A-Za-z0-9._:@+-])?';

/** Any provider name parseModelName takes. */
const PROVIDER_NAME = '[a-z][a-z0-9_-]{0,63}';

/** Visible ASCII, 1 to 255 characters: what the API takes as an Idempotency-Key. */
export const IDEMPOTENCY_KEY_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: '^[!-~]{1,255}$',
  minLength: 1,
  maxLength: 255,
};

/** Most metadata keys a job may carry (the zod schema's refinement). */
export const MAX_METADATA_KEYS = 16;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `request.model` and each fallback of a job of `type`: `<provider>/<model id>` with a provider
 * that serves the type, or an alias whose whole chain does. Without a catalog: any provider name.
 */
export function modelNameSchema(type: JobType, catalog?: ModelCatalog): JsonSchema {
  if (catalog === undefined) return { type: 'string', pattern: `^${PROVIDER_NAME}/${MODEL_ID}$` };
  const serves = (provider: string) => type === 'chat' || catalog.providers.get(provider)?.supportsEmbeddings === true;
  const providers = [...catalog.providers.keys()].filter(serves).sort();
  const aliases = [...catalog.aliases.keys()]
    .filter((alias) => {
      const resolution = resolveModel(catalog, alias);
      return resolution.ok && resolution.chain.every((reference) => serves(reference.provider));
    })
    .sort();
  const pattern = `^(?:${providers.map(escapeRegExp).join('|')})/${MODEL_ID}$`;
  const description =
    `\`<provider>/<model>\` with a provider of this deployment that serves ${type} jobs (${providers.join(', ')})` +
    (aliases.length > 0 ? `, or an alias: ${aliases.join(', ')}` : '');
  if (aliases.length === 0) return { type: 'string', pattern, description };
  // Each branch typed: a bare `{pattern}` would make generators type the union `unknown`.
  return {
    anyOf: [
      { type: 'string', pattern },
      { type: 'string', enum: aliases },
    ],
    description,
  };
}

/** The sub-schema at `path`; throws when the generated schema no longer has it, so drift fails the tests. */
function at(schema: JsonSchema, path: string[]): JsonSchema {
  let current: unknown = schema;
  for (const key of path) {
    current = (current as Record<string, unknown> | undefined)?.[key];
    if (typeof current !== 'object' || current === null) {
      throw new Error(`the submission schema has no ${path.join('.')}: update submission-constraints.ts`);
    }
  }
  return current as JsonSchema;
}

/** Every sub-schema of `schema`, depth first. */
function* walk(schema: unknown): Generator<JsonSchema> {
  if (typeof schema !== 'object' || schema === null) return;
  if (!Array.isArray(schema)) yield schema as JsonSchema;
  for (const value of Object.values(schema)) yield* walk(value);
}

/**
 * Adds the constraints to one generated submission schema (`ChatJobSubmission` or
 * `EmbeddingJobSubmission`), in place.
 */
export function constrainSubmission(
  schema: JsonSchema,
  options: { type: JobType; catalog?: ModelCatalog | undefined; semanticCache?: boolean | undefined },
): void {
  const models = modelNameSchema(options.type, options.catalog);
  const request = at(schema, ['properties', 'request']);
  const requestFields = at(request, ['properties']);
  requestFields.model = models;
  at(schema, ['properties', 'fallbacks']).items = models;
  at(schema, ['properties', 'metadata']).maxProperties = MAX_METADATA_KEYS;
  Object.assign(at(schema, ['properties', 'webhook', 'properties', 'url']), { pattern: '^https?://' });
  if (options.type === 'chat') {
    // `stream` is refused (z.never); left in, generators would type it `unknown` and take any value.
    delete requestFields.stream;
    request.description =
      'An OpenAI Chat Completions request body. `stream` is refused: follow GET /v1/jobs/{id}/events for partial output.';
    request.not = { required: ['max_tokens', 'max_completion_tokens'] };
    // Image parts: a data:image/ URL or an https URL (the zod refine).
    for (const part of walk(request)) {
      const properties = part.properties as Record<string, JsonSchema> | undefined;
      if (properties?.type?.const !== 'image_url') continue;
      Object.assign(at(part, ['properties', 'image_url', 'properties', 'url']), {
        pattern: '^(?:data:image/|https://)',
      });
    }
    request.dependentRequired = { tool_choice: ['tools'] };
    if (options.semanticCache === false) {
      const mode = at(schema, ['properties', 'cache', 'properties', 'mode']);
      mode.enum = (mode.enum as string[]).filter((value) => value !== 'semantic');
    }
  }
}
