import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { type FaultRule, type FaultRuleStatus, faultRuleListSchema } from './fault-rules.js';
import { parseJson, readBody, writeJson } from './http-io.js';
import { type SettingsUpdate, type SettingsView, settingsUpdateSchema } from './simulator-options.js';
import { BATCH_PROVIDERS, type BatchProvider } from './batch-stats.js';
import type { RequestLogEntry, SimulatorStats } from './stats.js';

/** What the control API drives: the simulator itself. */
export interface SimulatorControl {
  stats(): SimulatorStats;
  /** How many times each batch line id was submitted to `provider` (up to 500,000 ids). */
  batchSubmissions(provider: BatchProvider): Record<string, number>;
  requests(since?: number): RequestLogEntry[];
  faults(): FaultRuleStatus[];
  setFaults(rules: readonly FaultRule[]): void;
  reset(): void;
  configure(update: SettingsUpdate): SettingsView;
  settings(): SettingsView;
}

/** Control bodies are small; a tighter cap than provider bodies. */
const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

/** `POST /_sim/faults` takes a bare list of rules or `{"rules": [...]}`. */
const faultsBodySchema = z.union([faultRuleListSchema, z.strictObject({ rules: faultRuleListSchema })]);
const sinceSchema = z.coerce.number().min(0);
const providerSchema = z.enum(BATCH_PROVIDERS);

function writeControlError(response: ServerResponse, status: number, message: string): void {
  writeJson(response, status, { error: { type: 'invalid_request', message } });
}

async function readJson(request: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const body = await readBody(request, MAX_CONTROL_BODY_BYTES);
  return body.length === 0 ? { ok: true, value: {} } : parseJson(body);
}

/**
 * The `/_sim/*` control API. Unauthenticated on purpose: the simulator is a local test tool and
 * these routes never count in the statistics.
 *   GET    /_sim/stats                 -> SimulatorStats
 *   GET    /_sim/requests?since=<ms>   -> {"object":"list","data":[RequestLogEntry...]}
 *   GET    /_sim/batch-submissions?provider=openai|anthropic|gemini
 *                                      -> {"provider","submissions":{"<custom_id>": <times submitted>}}
 *   GET    /_sim/faults                -> {"rules":[FaultRuleStatus...]}
 *   POST   /_sim/faults  [rules]       -> replaces all rules -> {"rules":[...]}
 *   DELETE /_sim/faults                -> {"rules":[]}
 *   POST   /_sim/reset                 -> {"ok":true}: counters, log, windows, prompt caches and faults cleared
 *   GET    /_sim/config                -> SettingsView
 *   PUT    /_sim/config  SettingsUpdate -> SettingsView
 */
export async function handleControlRequest(
  simulator: SimulatorControl,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://simulator.local');
  const route = `${request.method ?? 'GET'} ${url.pathname}`;
  switch (route) {
    case 'GET /_sim/stats':
      return writeJson(response, 200, simulator.stats());
    case 'GET /_sim/requests': {
      const since = sinceSchema.safeParse(url.searchParams.get('since') ?? 0);
      if (!since.success) return writeControlError(response, 400, "'since' must be a time in epoch ms");
      return writeJson(response, 200, { object: 'list', data: simulator.requests(since.data) });
    }
    case 'GET /_sim/batch-submissions': {
      const provider = providerSchema.safeParse(url.searchParams.get('provider'));
      if (!provider.success) return writeControlError(response, 400, "'provider' must be openai, anthropic or gemini");
      const submissions = simulator.batchSubmissions(provider.data);
      return writeJson(response, 200, { provider: provider.data, submissions });
    }
    case 'GET /_sim/faults':
      return writeJson(response, 200, { rules: simulator.faults() });
    case 'POST /_sim/faults': {
      const json = await readJson(request);
      if (!json.ok) return writeControlError(response, 400, 'body is not valid JSON');
      const parsed = faultsBodySchema.safeParse(json.value);
      if (!parsed.success) return writeControlError(response, 400, z.prettifyError(parsed.error));
      simulator.setFaults(Array.isArray(parsed.data) ? parsed.data : parsed.data.rules);
      return writeJson(response, 200, { rules: simulator.faults() });
    }
    case 'DELETE /_sim/faults':
      simulator.setFaults([]);
      return writeJson(response, 200, { rules: [] });
    case 'POST /_sim/reset':
      simulator.reset();
      return writeJson(response, 200, { ok: true });
    case 'GET /_sim/config':
      return writeJson(response, 200, simulator.settings());
    case 'PUT /_sim/config': {
      const json = await readJson(request);
      if (!json.ok) return writeControlError(response, 400, 'body is not valid JSON');
      const parsed = settingsUpdateSchema.safeParse(json.value);
      if (!parsed.success) return writeControlError(response, 400, z.prettifyError(parsed.error));
      return writeJson(response, 200, simulator.configure(parsed.data));
    }
    default:
      return writeControlError(response, 404, `no control route ${route}`);
  }
}
