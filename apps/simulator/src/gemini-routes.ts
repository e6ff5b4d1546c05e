import type { IncomingMessage } from 'node:http';
import { hashOf } from './deterministic-random.js';
import {
  batchEmbedContentsBody,
  embedContentBody,
  type GeminiEmbeddingInput,
  parseBatchEmbedContents,
  parseEmbedContent,
} from './gemini-embeddings.js';
import { notFound, renderGeminiFailure } from './gemini-errors.js';
import { type GenerateContentRequest, parseGenerateContentRequest } from './gemini-generate-request.js';
import {
  generateContentBody,
  type GeminiResponseIdentity,
  streamGenerateContentPayloads,
} from './gemini-generate-response.js';
import { geminiReplyFor } from './gemini-reply.js';
import { writeJson } from './http-io.js';
import type { PreparedCall, ProviderEndpoint, RespondSettings, WireFormat } from './provider-endpoint.js';
import { writeEventStream } from './sse-writer.js';

/** The Gemini API's wire format: `x-goog-api-key` (or `?key=`) and Google's `{"error": {...}}` bodies. */
export const geminiWire: WireFormat = {
  name: 'gemini',
  readApiKey(request: IncomingMessage): string | undefined {
    const header = request.headers['x-goog-api-key'];
    const fromHeader = (Array.isArray(header) ? header[0] : header)?.trim();
    if (fromHeader) return fromHeader;
    const fromQuery = new URL(request.url ?? '/', 'http://simulator').searchParams.get('key')?.trim();
    return fromQuery ? fromQuery : undefined;
  },
  renderFailure: renderGeminiFailure,
};

/** `/v1beta/models/{model}:{method}`; the model may hold dots and dashes, never `/` or `:`. */
const MODEL_METHOD_PATH = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/;

type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'embedContent' | 'batchEmbedContents';
const METHODS: readonly string[] = ['generateContent', 'streamGenerateContent', 'embedContent', 'batchEmbedContents'];

function isMethod(method: string): method is GeminiMethod {
  return METHODS.includes(method);
}

/**
 * Gemini answers with no rate-limit headers, so the pipeline's `x-ratelimit-*` are left out;
 * `server-timing` is what the real front end reports.
 */
function geminiHeaders(settings: RespondSettings): Record<string, string> {
  return { 'server-timing': `gfet4t7; dur=${Math.max(0, Date.now() - settings.receivedAt)}` };
}

/** The `responseId` and `modelVersion` a GenerateContentResponse reports for `request`. */
export function geminiResponseIdentity(model: string, request: GenerateContentRequest): GeminiResponseIdentity {
  return { responseId: hashOf({ model, request }).slice(0, 22), modelVersion: model };
}

function prepareGeneration(model: string, body: unknown, stream: boolean): PreparedCall {
  const request = parseGenerateContentRequest(body);
  const reply = geminiReplyFor(model, request);
  const identity = geminiResponseIdentity(model, request);
  return {
    model,
    promptTokens: reply.promptTokens,
    completionTokens: reply.completionTokens,
    // The system instruction comes first in the prompt the model reads, so in the cached prefix too.
    promptText: () => JSON.stringify([request.systemInstruction ?? null, ...request.contents]),
    respond(response, settings) {
      const headers = geminiHeaders(settings);
      const cached = settings.cachedPromptTokens;
      // The simulator always streams as `alt=sse`, the only form the SDKs request.
      if (stream) {
        const payloads = streamGenerateContentPayloads(identity, reply, cached);
        writeEventStream(response, headers, payloads, settings.chunkDelayMs);
        return;
      }
      writeJson(response, 200, generateContentBody(identity, reply, cached), headers);
    },
  };
}

function prepareEmbedding(model: string, inputs: readonly GeminiEmbeddingInput[], body: () => unknown): PreparedCall {
  return {
    model,
    promptTokens: inputs.reduce((sum, input) => sum + input.tokens, 0),
    completionTokens: 0,
    respond(response, settings) {
      // Vectors are built after the latency wait, so a refused request never pays for them.
      writeJson(response, 200, body(), geminiHeaders(settings));
    },
  };
}

/** Every Gemini API method the simulator serves, under one path pattern. */
export const geminiModelsEndpoint: ProviderEndpoint = {
  wire: geminiWire,
  matches: (method, pathname) => method === 'POST' && MODEL_METHOD_PATH.test(pathname),
  prepare(body, pathname) {
    const match = MODEL_METHOD_PATH.exec(pathname);
    const model = decodeURIComponent(match?.[1] ?? '');
    const method = match?.[2] ?? '';
    if (!isMethod(method)) throw notFound(`Method "${method}" is not found for models/${model}.`);
    switch (method) {
      case 'generateContent':
      case 'streamGenerateContent':
        return prepareGeneration(model, body, method === 'streamGenerateContent');
      case 'batchEmbedContents': {
        const inputs = parseBatchEmbedContents(body, model);
        return prepareEmbedding(model, inputs, () => batchEmbedContentsBody(model, inputs));
      }
      case 'embedContent': {
        const input = parseEmbedContent(body, model);
        return prepareEmbedding(model, [input], () => embedContentBody(model, input));
      }
    }
  },
};

/** Every Gemini endpoint the simulator serves. */
export const geminiEndpoints: readonly ProviderEndpoint[] = [geminiModelsEndpoint];
