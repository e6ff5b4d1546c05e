import { z } from 'zod';
import { createBatchSchema } from '../routes/jobs-routes.js';
import type { ApiRoute, RouteAnswer } from './api-route.js';
import { API_ROUTES } from './api-route-table.js';
import {
  errorBodySchema,
  jobBatchAcceptedSchema,
  jobListSchema,
  jobObjectSchema,
  webhookSecretSchema,
} from './openapi-schemas.js';

type JsonSchema = Record<string, unknown>;

const COMPONENT = (id: string) => `#/components/schemas/${id}`;

// JSON Schema 2020-12 is OpenAPI 3.1's dialect; only the per-document keywords go.
function asComponent(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return asComponent(z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema);
}

/** Named schemas: requests as clients send them (input), answers as the API writes them (output). */
function componentSchemas(submissionSchema: z.ZodType): Record<string, JsonSchema> {
  const requests = z.registry<{ id: string }>();
  requests.add(submissionSchema, { id: 'JobSubmission' });
  requests.add(createBatchSchema(submissionSchema), { id: 'JobBatchSubmission' });
  const answers = z.registry<{ id: string }>();
  answers.add(errorBodySchema, { id: 'Error' });
  answers.add(jobObjectSchema, { id: 'Job' });
  answers.add(jobListSchema, { id: 'JobList' });
  answers.add(jobBatchAcceptedSchema, { id: 'JobBatch' });
  answers.add(webhookSecretSchema, { id: 'WebhookSecret' });
  const schemas: Record<string, JsonSchema> = {};
  for (const [registry, io] of [
    [requests, 'input'],
    [answers, 'output'],
  ] as const) {
    const generated = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: COMPONENT }) as {
      schemas: Record<string, JsonSchema>;
    };
    for (const [id, schema] of Object.entries(generated.schemas)) schemas[id] = asComponent(schema);
  }
  return schemas;
}

const NAMED = new Map<z.ZodType, string>([
  [errorBodySchema, 'Error'],
  [jobObjectSchema, 'Job'],
  [jobListSchema, 'JobList'],
  [jobBatchAcceptedSchema, 'JobBatch'],
  [webhookSecretSchema, 'WebhookSecret'],
]);

const reference = (schema: z.ZodType): JsonSchema => {
  const id = NAMED.get(schema);
  return id ? { $ref: COMPONENT(id) } : toSchema(schema, 'output');
};

function answerObject(status: number, answer: RouteAnswer): JsonSchema {
  const headers = answer.headers
    ? Object.fromEntries(
        Object.entries(answer.headers).map(([name, description]) => [
          name,
          { description, schema: { type: 'string' } },
        ]),
      )
    : undefined;
  let content: JsonSchema | undefined;
  if ('media' in answer) content = { [answer.media]: { schema: { type: 'string' } } };
  else if (answer.json) content = { 'application/json': { schema: reference(answer.json) } };
  else if (status >= 400) content = { 'application/json': { schema: { $ref: COMPONENT('Error') } } };
  else if (status === 200) content = { 'application/json': { schema: { type: 'object' } } };
  return { description: answer.description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
}

const SECURITY: Record<ApiRoute['auth'], JsonSchema[]> = {
  apiKey: [{ apiKey: [] }],
  admin: [{ adminToken: [] }, { adminSession: [] }],
  metrics: [{}, { metricsToken: [] }],
  none: [],
};

// Answers every route of a kind can give, whatever the route.
const COMMON_ANSWERS: Partial<Record<ApiRoute['auth'], Record<number, RouteAnswer>>> = {
  apiKey: {
    401: { description: 'missing or unknown API key' },
    429: {
      description: 'over the per-tenant request rate (type rate_limited); see Retry-After',
      headers: { 'Retry-After': 'seconds' },
    },
    503: { description: 'Redis is unreachable; retry shortly' },
  },
  admin: { 401: { description: 'not logged in and no admin token' } },
  metrics: { 401: { description: 'LLMQ_METRICS_TOKEN is set and was not sent' } },
};

function operation(route: ApiRoute): JsonSchema {
  const pathParameters = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const query = route.query ? toSchema(route.query, 'input') : {};
  const required = new Set(Array.isArray(query.required) ? query.required : []);
  const queryParameters = Object.entries((query.properties ?? {}) as Record<string, JsonSchema>).map(
    ([name, schema]) => ({ name, in: 'query', required: required.has(name), schema }),
  );
  const headerParameters = (route.headers ?? []).map((header) => ({
    name: header.name,
    in: 'header',
    required: false,
    description: header.description,
    schema: { type: 'string' },
  }));
  const answers = { ...route.answers, ...COMMON_ANSWERS[route.auth], 500: { description: 'unexpected error' } };
  let requestBody: JsonSchema | undefined;
  if (route.body && 'form' in route.body) {
    requestBody = {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] },
        },
      },
    };
  } else if (route.body) {
    const schema =
      typeof route.body.schema === 'string'
        ? { $ref: COMPONENT(route.body.schema) }
        : toSchema(route.body.schema, 'input');
    requestBody = { required: route.body.required, content: { 'application/json': { schema } } };
  }
  return {
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: SECURITY[route.auth],
    parameters: [...pathParameters, ...queryParameters, ...headerParameters],
    ...(requestBody ? { requestBody } : {}),
    responses: Object.fromEntries(
      Object.entries(answers).map(([status, answer]) => [status, answerObject(Number(status), answer)]),
    ),
  };
}

/** Express `/v1/jobs/:id` -> OpenAPI `/v1/jobs/{id}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/**
 * The OpenAPI 3.1 document of the API, built from the zod schemas the routes validate with
 * (`submissionSchema` is the deployment's `POST /v1/jobs` schema) and the route table.
 */
export function createOpenApiDocument(options: { submissionSchema: z.ZodType; version?: string }): JsonSchema {
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
        'LLM requests as durable background jobs. Every error body is `{"error": {"type", "message", ...}}`.',
    },
    tags: [
      { name: 'jobs', description: 'submit, read, wait for, list and cancel jobs' },
      { name: 'webhooks', description: 'signing secrets and redelivery' },
      { name: 'operations', description: 'health, readiness, metrics, this document' },
      { name: 'admin', description: 'the bull-board dashboard behind LLMQ_ADMIN_TOKEN' },
    ],
    paths,
    components: {
      schemas: componentSchemas(options.submissionSchema),
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from LLMQ_API_KEYS' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'LLMQ_ADMIN_TOKEN' },
        adminSession: { type: 'apiKey', in: 'cookie', name: 'llmq_admin', description: 'set by POST /admin/login' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'LLMQ_METRICS_TOKEN, when set' },
      },
    },
  };
}
