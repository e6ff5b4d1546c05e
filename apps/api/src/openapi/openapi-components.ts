import { z } from 'zod';
import { JOB_TYPES, type JobType, type ModelCatalog } from '@llmq/core';
import type { ApiErrorType } from '../http-error.js';
import { ERROR_BODY_SCHEMAS, ERROR_TYPES, errorBodySchema } from './error-schemas.js';
import { jobDeltaEventSchema, jobDeltaSchema, jobEventSchema, jobStatusEventSchema } from './job-event-schemas.js';
import {
  chatJobSchema,
  embeddingJobSchema,
  jobBatchAcceptedSchema,
  jobListSchema,
  jobObjectSchema,
} from './job-object-schemas.js';
import { budgetStatusSchema, usageReportSchema, webhookSecretSchema } from './openapi-schemas.js';
import { constrainSubmission } from './submission-constraints.js';
import { webhookEventSchema } from './webhook-document.js';

export type JsonSchema = Record<string, unknown>;

export const COMPONENT = (id: string) => `#/components/schemas/${id}`;

/** Answer schemas by their name in the document. */
const ANSWERS: Array<[z.ZodType, string]> = [
  [errorBodySchema, 'Error'],
  ...(Object.entries(ERROR_BODY_SCHEMAS) as Array<[ApiErrorType, z.ZodType]>).map(
    ([type, schema]): [z.ZodType, string] => [schema, ERROR_TYPES[type].component],
  ),
  [jobObjectSchema, 'Job'],
  [chatJobSchema, 'ChatJob'],
  [embeddingJobSchema, 'EmbeddingJob'],
  [jobListSchema, 'JobList'],
  [jobBatchAcceptedSchema, 'JobBatch'],
  [webhookSecretSchema, 'WebhookSecret'],
  [usageReportSchema, 'UsageReport'],
  [budgetStatusSchema, 'BudgetStatus'],
  [jobEventSchema, 'JobEvent'],
  [jobStatusEventSchema, 'JobStatusEvent'],
  [jobDeltaEventSchema, 'JobDeltaEvent'],
  [jobDeltaSchema, 'JobDelta'],
  [webhookEventSchema, 'WebhookEvent'],
];
const NAMED = new Map(ANSWERS);

/** The component name of an answer schema, if it has one. */
export const namedComponent = (schema: z.ZodType): string | undefined => NAMED.get(schema);

const pascal = (type: string) => type.charAt(0).toUpperCase() + type.slice(1);

/** The submission schema's variants (chat, embedding): a discriminated union on `type`. */
function submissionVariants(submissionSchema: z.ZodType): Array<[JobType, z.ZodType]> {
  if (!(submissionSchema instanceof z.ZodDiscriminatedUnion)) {
    throw new Error('the submission schema is not a union discriminated by "type"');
  }
  return (submissionSchema.options as z.ZodObject[]).map((variant) => {
    const type = (variant.shape.type as z.ZodLiteral<JobType>).value;
    if (!JOB_TYPES.includes(type)) throw new Error(`unknown job type "${String(type)}" in the submission schema`);
    return [type, variant];
  });
}

function generate(registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const generated = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: COMPONENT }) as {
    schemas: Record<string, JsonSchema>;
  };
  const schemas: Record<string, JsonSchema> = {};
  // JSON Schema 2020-12 is OpenAPI 3.1's dialect; only the per-document keywords go.
  for (const [id, { $schema: _schema, $id: _id, ...schema }] of Object.entries(generated.schemas)) schemas[id] = schema;
  return schemas;
}

const discriminator = (propertyName: string, mapping: Record<string, string>) => ({
  propertyName,
  mapping: Object.fromEntries(Object.entries(mapping).map(([value, id]) => [value, COMPONENT(id)])),
});

/**
 * Named schemas: requests as clients send them (input), answers as the API writes them (output).
 * Unions get a `discriminator` so generators and validating proxies pick the variant by its tag.
 */
export function componentSchemas(options: {
  submissionSchema: z.ZodType;
  batchSchema: z.ZodType;
  catalog?: ModelCatalog | undefined;
  semanticCache?: boolean | undefined;
}): Record<string, JsonSchema> {
  const variants = submissionVariants(options.submissionSchema);
  const requests = z.registry<{ id: string }>();
  requests.add(options.submissionSchema, { id: 'JobSubmission' });
  for (const [type, variant] of variants) requests.add(variant, { id: `${pascal(type)}JobSubmission` });
  requests.add(options.batchSchema, { id: 'JobBatchSubmission' });
  const answers = z.registry<{ id: string }>();
  for (const [schema, id] of ANSWERS) answers.add(schema, { id });
  const schemas = { ...generate(requests, 'input'), ...generate(answers, 'output') };

  for (const [type] of variants) {
    const variant = schemas[`${pascal(type)}JobSubmission`];
    if (variant) constrainSubmission(variant, { type, catalog: options.catalog, semanticCache: options.semanticCache });
  }
  const byType = Object.fromEntries(variants.map(([type]) => [type, `${pascal(type)}JobSubmission`]));
  Object.assign(schemas.JobSubmission ?? {}, { discriminator: discriminator('type', byType) });
  Object.assign(schemas.Job ?? {}, {
    discriminator: discriminator('type', { chat: 'ChatJob', embedding: 'EmbeddingJob' }),
  });
  Object.assign(schemas.JobEvent ?? {}, {
    discriminator: discriminator('event', { status: 'JobStatusEvent', delta: 'JobDeltaEvent' }),
  });
  return schemas;
}
