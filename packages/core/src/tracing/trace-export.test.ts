import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { traceExportEnvSchema, traceExportOptionsFrom } from './trace-export.js';

const schema = z.object(traceExportEnvSchema('llmq-test'));
const optionsOf = (env: Record<string, string>) => traceExportOptionsFrom(schema.parse(env));

describe('trace export settings', () => {
  it.each([
    [{}, undefined],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, undefined],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'http://collector:4318/v1/traces'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base/' }, 'http://collector:4318/base/v1/traces'],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/ingest',
      },
      'https://traces.example/ingest',
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }, undefined],
  ])('%j sends traces to %s', (env, url) => {
    expect(optionsOf(env)?.tracesUrl).toBe(url);
  });

  it('names the service by default and by OTEL_SERVICE_NAME, and takes the export delay', () => {
    expect(optionsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual({
      tracesUrl: 'http://c:4318/v1/traces',
      serviceName: 'llmq-test',
      scheduleDelayMs: 5_000,
    });
    expect(
      optionsOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_SERVICE_NAME: 'api-eu',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      }),
    ).toMatchObject({ serviceName: 'api-eu', scheduleDelayMs: 100 });
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_BSP_SCHEDULE_DELAY: 'soon' }, 'OTEL_BSP_SCHEDULE_DELAY'],
  ])('refuses %j, naming %s', (env, variable) => {
    const parsed = schema.safeParse(env);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path[0])).toContain(variable);
  });
});
