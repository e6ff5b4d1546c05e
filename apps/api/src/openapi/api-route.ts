import type { z } from 'zod';

/**
 * An answer: a JSON body by schema (an error status gets its error type's body by default), or
 * another media type (`schema`: what one item of it is, for an event stream). `headers`: name ->
 * what it carries; their schemas and whether they are always sent are in openapi-headers.ts.
 */
export type RouteAnswer =
  | {
      description: string;
      json?: z.ZodType;
      headers?: Record<string, string>;
      /** The same status may answer `text/event-stream` instead (a request's `stream: true`): what one event's data is. */
      stream?: z.ZodType;
    }
  | {
      description: string;
      media: 'text/html' | 'text/plain' | 'text/event-stream' | 'application/octet-stream';
      schema?: z.ZodType;
      headers?: Record<string, string>;
    };

/** One route of the API, as the OpenAPI document describes it. */
export interface ApiRoute {
  method: 'get' | 'post' | 'delete';
  /** Express path (`/v1/jobs/:id`); the document writes `{id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: 'jobs' | 'webhooks' | 'operations' | 'admin' | 'batches';
  /** Who may call it: an API key, the admin token (header or session cookie), the metrics token, anyone. */
  auth: 'apiKey' | 'admin' | 'metrics' | 'none';
  /** The query's schema; each property becomes a parameter. */
  query?: z.ZodType;
  /** Patterns of path or query parameters the route checks in code (a zod refine has none to show). */
  patterns?: Record<string, string>;
  /** The JSON body, by its schema; the submission schemas are named so the document can share them. */
  body?:
    | { schema: z.ZodType | 'JobSubmission' | 'JobBatchSubmission'; required: boolean }
    | { form: true }
    /** A `multipart/form-data` body: the JSON Schema of its fields. */
    | { multipart: Record<string, unknown> };
  headers?: Array<{ name: string; description: string; schema?: Record<string, unknown> }>;
  answers: Record<number, RouteAnswer>;
}

/** An error answer: its body is the error type's of its status (error-schemas.ts). */
export const errorAnswer = (description: string): RouteAnswer => ({ description });
