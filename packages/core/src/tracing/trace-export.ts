import { z } from 'zod';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

const unset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const otlpUrl = z.preprocess(
  unset,
  z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
);

/**
 * The standard OpenTelemetry variables this process reads (the exporter itself also reads
 * `OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT` and `_COMPRESSION`). Spread into an app's env schema
 * with its default service name.
 */
export function traceExportEnvSchema(defaultServiceName: string) {
  return {
    /** Base URL of an OTLP/HTTP receiver; traces go to `<it>/v1/traces`. Default: none (no tracing). */
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    /** Full URL traces are sent to; wins over OTEL_EXPORTER_OTLP_ENDPOINT. Default: none. */
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl,
    /** Only http/json is sent. */
    OTEL_EXPORTER_OTLP_PROTOCOL: z
      .preprocess(unset, z.literal('http/json', { error: 'only "http/json" is supported' }).optional())
      .optional(),
    OTEL_SERVICE_NAME: z.preprocess(unset, z.string().default(defaultServiceName)),
    /** Delay between two exports of finished spans, ms. Default 5 s. */
    OTEL_BSP_SCHEDULE_DELAY: z.preprocess(unset, z.coerce.number().int().min(0).default(5_000)),
    /** "true" turns tracing off whatever the endpoint says. */
    OTEL_SDK_DISABLED: z.preprocess(unset, z.enum(['true', 'false']).default('false')),
  };
}

export interface TraceExportOptions {
  /** Where OTLP/HTTP JSON spans are POSTed. */
  tracesUrl: string;
  serviceName: string;
  /** Delay between two exports, ms. */
  scheduleDelayMs: number;
}

type TraceExportEnv = z.infer<z.ZodObject<ReturnType<typeof traceExportEnvSchema>>>;

/** The export settings, or undefined (tracing off) when no endpoint is configured. */
export function traceExportOptionsFrom(env: TraceExportEnv): TraceExportOptions | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  const tracesUrl =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (tracesUrl === undefined) return undefined;
  return { tracesUrl, serviceName: env.OTEL_SERVICE_NAME, scheduleDelayMs: env.OTEL_BSP_SCHEDULE_DELAY };
}

/**
 * Starts the OpenTelemetry SDK (in an app's main.ts) when `options` is given: it registers the global tracer provider,
 * the AsyncLocalStorage context manager and the W3C trace-context propagator that llmq's spans
 * (packages/core/src/tracing) use. Without options nothing starts and they stay no-ops.
 * `shutdown` exports what is buffered.
 */
export async function startTraceExport(
  options: TraceExportOptions | undefined,
): Promise<{ shutdown(): Promise<void> }> {
  if (options === undefined) return { shutdown: async () => {} };
  // Loaded only when tracing is on: a process without an endpoint never loads the SDK.
  const [
    { OTLPTraceExporter },
    { defaultResource, resourceFromAttributes },
    { BatchSpanProcessor, NodeTracerProvider },
  ] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: options.tracesUrl }), {
        scheduledDelayMillis: options.scheduleDelayMs,
      }),
    ],
  });
  provider.register();
  return { shutdown: () => provider.shutdown().catch(() => undefined) };
}
