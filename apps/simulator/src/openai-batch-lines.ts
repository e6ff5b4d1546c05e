import { randomBytes } from 'node:crypto';
import type { LineAnswer, LineOutcome } from './batch-runner.js';
import { hashOf } from './deterministic-random.js';
import { chatReplyFor, parseChatRequest } from './openai-chat-request.js';
import { chatCompletionBody } from './openai-chat-response.js';
import { embeddingsBody, parseEmbeddingsRequest } from './openai-embeddings.js';
import { renderOpenAIFailure } from './openai-errors.js';
import { chatCompletionIdentity, chatRequestHash, openAIRequestId } from './openai-routes.js';
import type { SimulatedFailure } from './provider-endpoint.js';
import { WireError } from './wire-error.js';

/** Endpoints a simulated batch may name. */
export const OPENAI_BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings'] as const;
export type OpenAIBatchEndpoint = (typeof OPENAI_BATCH_ENDPOINTS)[number];

/** A line's `response`: what the sync endpoint would have answered. */
export interface OpenAILineResponse {
  status_code: number;
  request_id: string;
  body: unknown;
}

function errorResponse(error: WireError, requestHash: string): LineAnswer<OpenAILineResponse> {
  return {
    errored: true,
    result: { status_code: error.status, request_id: openAIRequestId(requestHash), body: error.body },
    promptTokens: 0,
    completionTokens: 0,
  };
}

/** The sync endpoint's answer to one line's body, at time `now` (epoch ms). */
export function answerOpenAILine(
  endpoint: OpenAIBatchEndpoint,
  body: Record<string, unknown>,
  now: number,
): LineAnswer<OpenAILineResponse> {
  try {
    if (endpoint === '/v1/embeddings') {
      const { request, inputs } = parseEmbeddingsRequest(body);
      const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
      const result = {
        status_code: 200,
        request_id: openAIRequestId(hashOf(request)),
        body: embeddingsBody(request, inputs),
      };
      return { errored: false, result, promptTokens, completionTokens: 0 };
    }
    const request = parseChatRequest(body);
    const reply = chatReplyFor(request);
    const requestHash = chatRequestHash(request);
    const completion = chatCompletionBody(chatCompletionIdentity(request, requestHash, now), reply);
    return {
      errored: false,
      result: { status_code: 200, request_id: openAIRequestId(requestHash), body: completion },
      promptTokens: reply.promptTokens,
      completionTokens: reply.completionTokens,
    };
  } catch (error) {
    if (error instanceof WireError) return errorResponse(error, hashOf(body));
    throw error;
  }
}

/** Prompt tokens of one line's body as its answer would count them; 0 for a body the endpoint refuses. */
export function linePromptTokens(endpoint: OpenAIBatchEndpoint, body: Record<string, unknown>): number {
  try {
    if (endpoint === '/v1/embeddings') {
      return parseEmbeddingsRequest(body).inputs.reduce((sum, input) => sum + input.tokens, 0);
    }
    return chatReplyFor(parseChatRequest(body)).promptTokens;
  } catch (error) {
    if (error instanceof WireError) return 0;
    throw error;
  }
}

/** The line's answer to an injected failure, in OpenAI's error shape. */
export function failOpenAILine(failure: SimulatedFailure, body: unknown): LineAnswer<OpenAILineResponse> {
  return errorResponse(renderOpenAIFailure(failure), hashOf(body));
}

const UNANSWERED = {
  canceled: { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' },
  expired: {
    code: 'batch_expired',
    message: 'This request could not be executed before the completion window expired.',
  },
} as const;

/**
 * One output or error file line: `{id, custom_id, response: {status_code, request_id, body}, error}`.
 * 2xx answers go to the output file, other answers and unanswered lines to the error file.
 */
export function openAIOutputLine(
  customId: string,
  outcome: LineOutcome<OpenAILineResponse>,
): { file: 'output' | 'error'; text: string } {
  const id = `batch_req_${randomBytes(16).toString('hex')}`;
  if (outcome.answer === undefined) {
    const error = outcome.state === 'canceled' ? UNANSWERED.canceled : UNANSWERED.expired;
    return { file: 'error', text: JSON.stringify({ id, custom_id: customId, response: null, error }) };
  }
  const text = JSON.stringify({ id, custom_id: customId, response: outcome.answer.result, error: null });
  return { file: outcome.answer.errored ? 'error' : 'output', text };
}
