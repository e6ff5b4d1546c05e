import type { IncomingMessage } from 'node:http';
import { hashOf } from './deterministic-random.js';
import { writeJson } from './http-io.js';
import { type ChatRequest, chatReplyFor, parseChatRequest } from './openai-chat-request.js';
import { chatCompletionBody, chatCompletionChunkPayloads } from './openai-chat-response.js';
import { embeddingsBody, parseEmbeddingsRequest } from './openai-embeddings.js';
import { renderOpenAIFailure } from './openai-errors.js';
import type { ProviderEndpoint, RespondSettings, WireFormat } from './provider-endpoint.js';
import { writeEventStream } from './sse-writer.js';

/** OpenAI's wire format: `Authorization: Bearer <key>` and its `{"error": {...}}` bodies. */
export const openAIWire: WireFormat = {
  name: 'openai',
  readApiKey(request: IncomingMessage): string | undefined {
    const match = /^Bearer\s+(\S.*)$/i.exec(request.headers.authorization?.trim() ?? '');
    const key = match?.[1]?.trim();
    return key === undefined || key === '' ? undefined : key;
  },
  renderFailure: renderOpenAIFailure,
};

/** OpenAI's request id for a request hash, as `x-request-id` and a batch line's `request_id`. */
export function openAIRequestId(requestHash: string): string {
  return `req_${requestHash.slice(0, 32)}`;
}

/** The hash behind a chat request's completion id; streaming fields are left out, so a streamed and a plain call share an id. */
export function chatRequestHash(request: ChatRequest): string {
  return hashOf({ ...request, stream: undefined, stream_options: undefined });
}

/** The completion id, creation time and model a chat completion reports. */
export function chatCompletionIdentity(request: ChatRequest, requestHash: string, receivedAt: number) {
  return { id: `chatcmpl-${requestHash.slice(0, 29)}`, created: Math.floor(receivedAt / 1000), model: request.model };
}

/** Headers OpenAI puts on every answer; the SDK exposes `x-request-id` as `_request_id`. */
function openAIHeaders(settings: RespondSettings, requestHash: string): Record<string, string> {
  return {
    ...settings.headers,
    'x-request-id': openAIRequestId(requestHash),
    'openai-processing-ms': String(Math.max(0, Date.now() - settings.receivedAt)),
    'openai-version': '2020-10-01',
  };
}

export const openAIChatCompletionsEndpoint: ProviderEndpoint = {
  wire: openAIWire,
  matches: (method, pathname) => method === 'POST' && pathname === '/v1/chat/completions',
  prepare(body) {
    const request = parseChatRequest(body);
    const reply = chatReplyFor(request);
    const requestHash = chatRequestHash(request);
    return {
      model: request.model,
      promptTokens: reply.promptTokens,
      completionTokens: reply.completionTokens,
      promptText: () => JSON.stringify(request.messages),
      respond(response, settings) {
        const identity = chatCompletionIdentity(request, requestHash, settings.receivedAt);
        const headers = openAIHeaders(settings, requestHash);
        const cached = settings.cachedPromptTokens;
        if (request.stream === true) {
          const includeUsage = request.stream_options?.include_usage === true;
          const payloads = chatCompletionChunkPayloads(identity, reply, includeUsage, cached);
          writeEventStream(response, headers, payloads, settings.chunkDelayMs);
          return;
        }
        writeJson(response, 200, chatCompletionBody(identity, reply, cached), headers);
      },
    };
  },
};

export const openAIEmbeddingsEndpoint: ProviderEndpoint = {
  wire: openAIWire,
  matches: (method, pathname) => method === 'POST' && pathname === '/v1/embeddings',
  prepare(body) {
    const { request, inputs } = parseEmbeddingsRequest(body);
    const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
    return {
      model: request.model,
      promptTokens,
      completionTokens: 0,
      respond(response, settings) {
        // Vectors are built here, after the latency wait, so a refused request never pays for them.
        writeJson(response, 200, embeddingsBody(request, inputs), openAIHeaders(settings, hashOf(request)));
      },
    };
  },
};

/** Every OpenAI endpoint the simulator serves. */
export const openAIEndpoints: readonly ProviderEndpoint[] = [openAIChatCompletionsEndpoint, openAIEmbeddingsEndpoint];
