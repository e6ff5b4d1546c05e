import { z } from 'zod';
import type { ModelCatalog } from '@llmq/core';
import { createBatchSchema } from '../routes/jobs-routes.js';
import type { ApiRoute, RouteAnswer } from './api-route.js';
import { API_ROUTES } from './api-route-table.js';
import { componentSchemas, COMPONENT, namedComponent, type JsonSchema } from './openapi-components.js';
import { ERROR_TYPES, errorTypeOfStatus } from './error-schemas.js';
import { responseHeaders } from './openapi-headers.js';
import { webhookOperations } from './webhook-document.js';

export type { JsonSchema } from './openapi-components.js';

// JSON Schema 2020-12 is OpenAPI 3.1's dialect; only the per-document keywords go.
function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const reference = (schema: z.ZodType): JsonSchema => {
  const id = namedComponent(schema);
  return id ? { $ref: COMPONENT(id) } : toSchema(schema, 'output');
};

function answerObject(status: number, answer: RouteAnswer): JsonSchema {
  const headers = responseHeaders(answer.headers);
  let content: JsonSchema | undefined;
  const errorType = errorTypeOfStatus(status);
  if ('media' in answer) {
    const schema = answer.schema ? reference(answer.schema) : { type: 'string' };
    content = { [answer.media]: { schema } };
  } else if (answer.json) {
    content = {
      'application/json': { schema: reference(answer.json) },
      ...(answer.stream ? { 'text/event-stream': { schema: reference(answer.stream) } } : {}),
    };
  } else if (errorType)
    content = { 'application/json': { schema: { $ref: COMPONENT(ERROR_TYPES[errorType].component) } } };
  return { description: answer.description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
}

const SECURITY: Record<ApiRoute['auth'], JsonSchema[]> = {
  apiKey: [{ apiKey: [] }],
  admin: [{ adminToken: [] }, { adminSession: [] }],
  metrics: [{}, { metricsToken: [] }],
  none: [],
};

const unavailable: RouteAnswer = {
  description: 'Redis is unreachable or refusing writes; retry after Retry-After',
  headers: { 'Retry-After': 'seconds' },
};

// Answers every route of a kind can give, whatever the route; a route's own description wins.
const COMMON_ANSWERS: Record<ApiRoute['auth'], Record<number, RouteAnswer>> = {
  apiKey: {
    // /v1 parses a JSON body on every method, so these hold for GET and DELETE too.
    400: {
      description:
        'the body is not valid JSON or nested deeper than 64 levels, or the path is not valid percent-encoding',
    },
    401: {
      description: 'missing or unknown API key',
      headers: { 'WWW-Authenticate': 'the Bearer challenge (RFC 6750), with error="invalid_token" for an unknown key' },
    },
    413: { description: 'the body is larger than LLMQ_MAX_BODY_BYTES' },
    415: { description: 'the JSON body is not UTF-8' },
    429: {
      description: 'over the per-tenant request rate (LLMQ_API_RATE_LIMIT); retry after Retry-After',
      headers: { 'Retry-After': 'seconds' },
    },
    503: unavailable,
  },
  admin: {
    404: { description: 'the dashboard is off (no LLMQ_ADMIN_TOKEN)' },
    503: { ...unavailable, description: 'Redis cannot be read: the dashboard answers in the one error body' },
  },
  metrics: { 401: { description: 'LLMQ_METRICS_TOKEN is set and was not sent' }, 503: unavailable },
  none: {},
};

/** Headers /v1 success answers carry while the per-tenant rate limit is on. */
const RATE_LIMIT_HEADERS = { 'RateLimit-Limit': 'requests per second', 'RateLimit-Remaining': 'left in this second' };

function answersOf(route: ApiRoute): Record<number, RouteAnswer> {
  const answers: Record<number, RouteAnswer> = { ...COMMON_ANSWERS[route.auth], ...route.answers };
  answers[500] = { description: 'unexpected error (none is known); the request id is in X-Request-Id' };
  if (route.auth === 'apiKey') {
    for (const [status, answer] of Object.entries(answers)) {
      if (Number(status) < 300)
        answers[Number(status)] = { ...answer, headers: { ...RATE_LIMIT_HEADERS, ...answer.headers } };
    }
  }
  return answers;
}

function parameters(route: ApiRoute): JsonSchema[] {
  const withPattern = (name: string, schema: JsonSchema) =>
    route.patterns?.[name] ? { ...schema, pattern: route.patterns[name] } : schema;
  const pathParameters = [...route.path.matchAll(/:(\w+)/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    schema: withPattern(name, { type: 'string' }),
  }));
  const query = route.query ? toSchema(route.query, 'input') : {};
  const required = new Set(Array.isArray(query.required) ? query.required : []);
  const queryParameters = Object.entries((query.properties ?? {}) as Record<string, JsonSchema>).map(
    ([name, schema]) => ({ name, in: 'query', required: required.has(name), schema: withPattern(name, schema) }),
  );
  const headerParameters = (route.headers ?? []).map((header) => ({
    name: header.name,
    in: 'header',
    required: false,
    description: header.description,
    schema: header.schema ?? { type: 'string' },
  }));
  return [...pathParameters, ...queryParameters, ...headerParameters];
}

function requestBody(route: ApiRoute): JsonSchema | undefined {
  if (route.body === undefined) return undefined;
  if ('form' in route.body) {
    return {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: {
            type: 'object',
            properties: { token: { type: 'string' } },
            required: ['token'],
            additionalProperties: false,
          },
        },
      },
    };
  }
  if ('multipart' in route.body) {
    return { required: true, content: { 'multipart/form-data': { schema: route.body.multipart } } };
  }
  const schema =
    typeof route.body.schema === 'string'
      ? { $ref: COMPONENT(route.body.schema) }
      : toSchema(route.body.schema, 'input');
  return { required: route.body.required, content: { 'application/json': { schema } } };
}

function operation(route: ApiRoute): JsonSchema {
  const body = requestBody(route);
  return {
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: SECURITY[route.auth],
    parameters: parameters(route),
    ...(body ? { requestBody: body } : {}),
    responses: Object.fromEntries(
      Object.entries(answersOf(route)).map(([status, answer]) => [status, answerObject(Number(status), answer)]),
    ),
  };
}

/** Express `/v1/jobs/:id` -> OpenAPI `/v1/jobs/{id}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

export interface OpenApiDocumentOptions {
  /** The deployment's `POST /v1/jobs` schema (createJobSubmissionSchema). */
  submissionSchema: z.ZodType;
  /** The deployment's providers and aliases: `request.model` and `fallbacks` name only these. Default: any provider name. */
  catalog?: ModelCatalog;
  /** Whether `cache.mode: "semantic"` is served (config `cache.semantic`). Default: true. */
  semanticCache?: boolean;
  version?: string;
}

/**
 * The OpenAPI 3.1 document of the API, built from the zod schemas the routes validate with,
 * the checks they make in code (submission-constraints.ts) and the route table.
 */
export function createOpenApiDocument(options: OpenApiDocumentOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of API_ROUTES) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'llmq',
      version: options.version ?? '0.1.0',
      description:
        'LLM requests as durable background jobs. Every error body is `{"error": {"type", "message", ...}}`; each status has one error type.',
    },
    servers: [{ url: '/', description: 'the server this document is served from' }],
    tags: [
      { name: 'jobs', description: 'submit, read, wait for, list and cancel jobs; usage and cost' },
      { name: 'webhooks', description: 'signing secrets and redelivery' },
      { name: 'operations', description: 'health, readiness, metrics, this document' },
      { name: 'admin', description: 'the bull-board dashboard behind LLMQ_ADMIN_TOKEN' },
      { name: 'batches', description: "OpenAI's Files and Batch API: JSONL files of requests, each line a job" },
    ],
    paths,
    webhooks: webhookOperations(COMPONENT),
    components: {
      schemas: componentSchemas({
        submissionSchema: options.submissionSchema,
        batchSchema: createBatchSchema(options.submissionSchema),
        catalog: options.catalog,
        semanticCache: options.semanticCache,
      }),
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from LLMQ_API_KEYS' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'LLMQ_ADMIN_TOKEN' },
        adminSession: { type: 'apiKey', in: 'cookie', name: 'llmq_admin', description: 'set by POST /admin/login' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'LLMQ_METRICS_TOKEN, when set' },
      },
    },
  };
}
