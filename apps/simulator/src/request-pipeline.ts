import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountRegistry } from './accounts.js';
import type { FaultKind, FaultRuleBook, InjectedFault } from './fault-rules.js';
import type { HoldGate } from './hold-gate.js';
import { BodyTooLargeError, parseJson, readBody, writeWireError } from './http-io.js';
import type { PreparedCall, ProviderEndpoint, RespondSettings } from './provider-endpoint.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SimulatorSettings } from './simulator-options.js';
import type { StatsRecorder } from './stats.js';
import { WireError } from './wire-error.js';

/** Everything shared by every provider endpoint; one per simulator. */
export interface PipelineContext {
  readonly settings: SimulatorSettings;
  /** The accounts' organisations, per-key counters and prompt caches. */
  readonly accounts: AccountRegistry;
  readonly faults: FaultRuleBook;
  readonly limiter: RateLimiter;
  readonly stats: StatsRecorder;
  /** Responses held open by a "hang" fault, so `close()` can release them. */
  readonly hanging: Set<ServerResponse>;
  /** Requests parked by a "hold" fault until the rules change. */
  readonly held: HoldGate;
  readonly clock: () => number;
  readonly maxBodyBytes: number;
}

interface RequestRecord {
  time: number;
  path: string;
  serviceTier?: string;
}

/** The service tier a body asks for: OpenAI's `service_tier`, Gemini's `serviceTier`. */
function serviceTierOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { service_tier: snake, serviceTier: camel } = body as { service_tier?: unknown; serviceTier?: unknown };
  const tier = snake ?? camel;
  return typeof tier === 'string' ? tier : undefined;
}

function retryHeaders(fault: InjectedFault): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  return headers;
}

/**
 * Answers one provider request. Order, as on the real APIs: authentication, body validation,
 * then (simulator only) injected faults, then the rate windows, then the latency wait. Errors
 * are answered at once; only successes wait for the configured latency. A held request meets the
 * rate windows when it is released, as if it arrived then.
 */
export async function handleProviderRequest(
  context: PipelineContext,
  endpoint: ProviderEndpoint,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
): Promise<void> {
  const record: RequestRecord = { time: Date.now(), path: pathname };
  const { wire } = endpoint;
  const key = wire.readApiKey(request);
  const fail = (error: WireError, model: string | null, fault: FaultKind | null, headers = {}): void => {
    writeWireError(response, error, headers);
    context.stats.record({ ...record, model, status: error.status, promptTokens: 0, completionTokens: 0, fault });
    if (key !== undefined)
      context.accounts.record(key, { status: error.status, promptTokens: 0, cachedPromptTokens: 0 });
  };

  if (key === undefined) return fail(wire.renderFailure({ kind: 'missing_api_key' }), null, null);
  const acceptedKeys = context.settings.apiKeys;
  if (acceptedKeys !== undefined && !acceptedKeys.has(key)) {
    return fail(wire.renderFailure({ kind: 'invalid_api_key', key }), null, null);
  }
  const org = context.accounts.orgOf(key);

  let body: Buffer;
  try {
    body = await readBody(request, context.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return fail(wire.renderFailure({ kind: 'body_too_large', limitBytes: error.limitBytes }), null, null);
    }
    return; // The client went away mid-body: nobody to answer.
  }
  const json = parseJson(body);
  if (!json.ok) return fail(wire.renderFailure({ kind: 'invalid_json' }), null, null);
  const serviceTier = serviceTierOf(json.value);
  if (serviceTier !== undefined) record.serviceTier = serviceTier;

  let call: PreparedCall;
  try {
    call = endpoint.prepare(json.value, pathname, request.headers);
  } catch (error) {
    if (error instanceof WireError) return fail(error, null, null);
    throw error;
  }

  const fault = context.faults.take(pathname, call.model, () => body.toString('utf8'));
  let extraDelayMs = 0;
  if (fault !== undefined) {
    const noAnswer = {
      ...record,
      model: call.model,
      status: 0,
      promptTokens: 0,
      completionTokens: 0,
      fault: fault.kind,
    };
    const recordNoAnswer = (): void => {
      context.stats.record(noAnswer);
      context.accounts.record(key, { status: 0, promptTokens: 0, cachedPromptTokens: 0 });
    };
    switch (fault.kind) {
      case '429': {
        const resetMs = fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 1) * 1000;
        const injected = context.limiter.injectedRateLimit(call.model, context.clock(), resetMs, org);
        const headers = { ...injected.headers, ...retryHeaders(fault) };
        return fail(wire.renderFailure(injected.failure), call.model, fault.kind, headers);
      }
      case 'insufficient_quota':
        return fail(wire.renderFailure({ kind: 'insufficient_quota' }), call.model, fault.kind, retryHeaders(fault));
      case '500':
        return fail(wire.renderFailure({ kind: 'server_error' }), call.model, fault.kind, retryHeaders(fault));
      case '503':
        return fail(wire.renderFailure({ kind: 'overloaded' }), call.model, fault.kind, retryHeaders(fault));
      case '529': {
        // Anthropic's overload status, whatever the wire format: its own overload body, status 529.
        const overloaded = wire.renderFailure({ kind: 'overloaded' });
        const error = new WireError(529, overloaded.body, overloaded.message, overloaded.headers);
        return fail(error, call.model, fault.kind, retryHeaders(fault));
      }
      case 'hang':
        context.hanging.add(response);
        response.once('close', () => context.hanging.delete(response));
        return recordNoAnswer();
      case 'reset':
        recordNoAnswer();
        // RST rather than FIN: the client sees ECONNRESET, as when a proxy drops the connection.
        request.socket.resetAndDestroy();
        return;
      case 'hold':
        if (!(await context.held.wait(response))) return recordNoAnswer();
        break;
      case 'timeout_then_ok':
        extraDelayMs = fault.delayMs;
        break;
    }
  }

  const tokens = call.promptTokens + call.completionTokens;
  const now = context.clock();
  const decision = context.limiter.admit(call.model, tokens, now, org);
  if (!decision.admitted) {
    return fail(wire.renderFailure(decision.failure), call.model, fault?.kind ?? null, decision.headers);
  }
  // Only an admitted prompt reaches the model, so only an admitted prompt fills the cache.
  const cachedPromptTokens = context.accounts.cachedPromptTokens(key, call, now);
  context.stats.record({
    ...record,
    model: call.model,
    status: 200,
    promptTokens: call.promptTokens,
    completionTokens: call.completionTokens,
    fault: fault?.kind ?? null,
  });
  context.accounts.record(key, { status: 200, promptTokens: call.promptTokens, cachedPromptTokens });
  const answer = { headers: decision.headers, receivedAt: record.time, cachedPromptTokens };
  answerAfterDelay(context, call, response, answer, extraDelayMs);
}

/** `answer` is what `respond` gets but the chunk delay, which is read when the answer goes out. */
function answerAfterDelay(
  context: PipelineContext,
  call: PreparedCall,
  response: ServerResponse,
  answer: Omit<RespondSettings, 'chunkDelayMs'>,
  extraDelayMs: number,
): void {
  const { settings } = context;
  const jitter = settings.jitterMs > 0 ? Math.random() * settings.jitterMs : 0;
  const delayMs = settings.latencyMs + jitter + extraDelayMs;
  const respond = (): void => {
    if (response.destroyed || response.writableEnded) return;
    call.respond(response, { ...answer, chunkDelayMs: settings.chunkDelayMs });
  };
  if (delayMs <= 0) {
    respond();
    return;
  }
  // One plain timer per waiting request: 10,000 of them cost little, and closing clears them.
  const timer = setTimeout(respond, delayMs);
  response.once('close', () => clearTimeout(timer));
}
