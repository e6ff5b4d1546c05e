import type { IncomingMessage } from 'node:http';
import { hashOf } from './deterministic-random.js';
import { renderAnthropicFailure } from './anthropic-errors.js';
import { anthropicReplyFor } from './anthropic-messages-reply.js';
import { parseMessagesRequest, readAnthropicVersion } from './anthropic-messages-request.js';
import {
  anthropicMessageBody,
  anthropicStreamEvents,
  type MessageIdentity,
  writeNamedEventStream,
} from './anthropic-messages-response.js';
import type { MessagesRequest } from './anthropic-messages-schema.js';
import { toAnthropicRateLimitHeaders } from './anthropic-rate-limit-headers.js';
import { writeJson } from './http-io.js';
import type { ProviderEndpoint, RespondSettings, WireFormat } from './provider-endpoint.js';

function singleHeader(value: string | string[] | undefined): string | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text === undefined || text === '' ? undefined : text;
}

/**
 * Anthropic's wire format. The key comes in `x-api-key`, or as `Authorization: Bearer <key>`,
 * which is what SDK 1.x (API version 2026-10-21) sends; the API reads `x-api-key` first when both
 * are present.
 */
export const anthropicWire: WireFormat = {
  name: 'anthropic',
  readApiKey(request: IncomingMessage): string | undefined {
    const apiKey = singleHeader(request.headers['x-api-key']);
    if (apiKey !== undefined) return apiKey;
    const match = /^Bearer\s+(\S.*)$/i.exec(singleHeader(request.headers.authorization) ?? '');
    return match?.[1]?.trim() || undefined;
  },
  renderFailure: renderAnthropicFailure,
};

/** Headers Anthropic puts on every answer: a request id, and its own names for the rate-limit state. */
function anthropicHeaders(settings: RespondSettings, requestHash: string): Record<string, string> {
  return {
    ...toAnthropicRateLimitHeaders(settings.headers),
    'request-id': `req_${requestHash.slice(0, 24)}`,
  };
}

/** The hash behind a Messages request's ids; `stream` is left out, so a streamed and a plain call share a message id. */
export function messagesRequestHash(request: MessagesRequest): string {
  return hashOf({ ...request, stream: undefined });
}

/** The message id and model a Message reports. */
export function messageIdentity(request: MessagesRequest, requestHash: string): MessageIdentity {
  return { id: `msg_${requestHash.slice(0, 24)}`, model: request.model };
}

export const anthropicMessagesEndpoint: ProviderEndpoint = {
  wire: anthropicWire,
  matches: (method, pathname) => method === 'POST' && pathname === '/v1/messages',
  prepare(body, _pathname, headers) {
    const parsed = parseMessagesRequest(body, readAnthropicVersion(headers));
    const { request } = parsed;
    const reply = anthropicReplyFor(parsed);
    const requestHash = messagesRequestHash(request);
    return {
      model: request.model,
      promptTokens: reply.inputTokens,
      completionTokens: reply.outputTokens,
      // The system prompt comes first in the prompt the model reads, so in the cached prefix too.
      promptText: () => JSON.stringify([request.system ?? null, ...request.messages]),
      respond(response, settings) {
        const identity = messageIdentity(request, requestHash);
        const responseHeaders = anthropicHeaders(settings, requestHash);
        const cached = settings.cachedPromptTokens;
        if (request.stream === true) {
          const events = anthropicStreamEvents(identity, reply, cached);
          writeNamedEventStream(response, responseHeaders, events, settings.chunkDelayMs);
          return;
        }
        writeJson(response, 200, anthropicMessageBody(identity, reply, cached), responseHeaders);
      },
    };
  },
};

/** Every Anthropic endpoint the simulator serves. */
export const anthropicEndpoints: readonly ProviderEndpoint[] = [anthropicMessagesEndpoint];
