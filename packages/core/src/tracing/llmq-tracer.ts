import {
  context,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { ProviderError } from '../providers/provider-error.js';

/** The instrumentation scope of every llmq span. */
export const LLMQ_TRACER_NAME = 'llmq';

/**
 * llmq's tracer. Until an app registers an SDK (see each app's `tracing.ts`), this is the API's
 * no-op tracer: spans cost a few allocations and export nothing.
 */
export function llmqTracer(): Tracer {
  return trace.getTracer(LLMQ_TRACER_NAME);
}

/**
 * A low-cardinality name of what went wrong, for `error.type`: a ProviderError's kind, else the
 * error's class name. Never the message: provider messages may quote the prompt.
 */
export function errorTypeOf(error: unknown): string {
  if (error instanceof ProviderError) return error.kind;
  if (error instanceof Error) return error.name;
  return '_OTHER';
}

/** Marks a span failed with `error.type` (and nothing of the error's text). */
export function markSpanFailed(span: Span, errorType: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

export interface SpanRunOptions extends SpanOptions {
  /** The parent; default: the active context. */
  parent?: Context;
  /**
   * What a throw means for the span: an `error.type` to mark it failed with, or null when the
   * throw is control flow (a park, a retry scheduled). Default: `errorTypeOf`.
   */
  failure?: (error: unknown) => string | null;
}

/** Runs `work` inside a new span (active for everything `work` awaits) and ends the span after it. */
export async function inSpan<T>(name: string, options: SpanRunOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const { parent = context.active(), failure = errorTypeOf, ...spanOptions } = options;
  const span = llmqTracer().startSpan(name, spanOptions, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    const errorType = failure(error);
    if (errorType !== null) markSpanFailed(span, errorType);
    throw error;
  } finally {
    span.end();
  }
}

/** Adds an event to the active span, if one records. */
export function addSpanEvent(name: string, attributes: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}
