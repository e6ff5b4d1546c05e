import { context, propagation, ROOT_CONTEXT, type Context } from '@opentelemetry/api';

/** A W3C `traceparent`: version, trace id, parent span id, flags. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

/**
 * The W3C `traceparent` of `from` (default: the active context), for a queue job's data.
 * Undefined when no SDK is started (the API's no-op propagator writes nothing) or no span is active.
 */
export function traceparentOf(from: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return isTraceparent(carrier.traceparent) ? carrier.traceparent : undefined;
}

/** The context a queue job's `traceparent` names, to parent the spans of its run; the root context without one. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!isTraceparent(traceparent)) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** `{ traceparent }` of the active context, or nothing: spread into queue job data. */
export function traceFields(): { traceparent?: string } {
  const traceparent = traceparentOf();
  return traceparent === undefined ? {} : { traceparent };
}
