import { SpanKind, type Attributes } from '@opentelemetry/api';
// GenAI conventions are still incubating: the package is pinned to an exact version for them.
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
} from '@opentelemetry/semantic-conventions/incubating';
import type { JobUsage } from '../jobs/job-object.js';
import type { JobType } from '../jobs/job-submission-schema.js';
import type { ModelReference } from '../models/model-name.js';
import type { ChatCompletionResult, EmbeddingResult } from '../providers/chat-completion.js';
import { inSpan } from './llmq-tracer.js';

const BUILT_IN_PROVIDERS: Readonly<Record<string, string>> = {
  openai: GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
  anthropic: GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  google: GEN_AI_PROVIDER_NAME_VALUE_GCP_GEMINI,
};

/** `gen_ai.provider.name`: the convention's value for a built-in provider, a configured provider's own name. */
export function genAiProviderName(provider: string): string {
  return BUILT_IN_PROVIDERS[provider] ?? provider;
}

/** What a provider call span says before the call: operation, provider and model (nothing of the request's content). */
export function genAiCallAttributes(call: { type: JobType; reference: ModelReference }): Attributes {
  return {
    [ATTR_GEN_AI_OPERATION_NAME]:
      call.type === 'chat' ? GEN_AI_OPERATION_NAME_VALUE_CHAT : GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
    [ATTR_GEN_AI_PROVIDER_NAME]: genAiProviderName(call.reference.provider),
    [ATTR_GEN_AI_REQUEST_MODEL]: call.reference.modelId,
  };
}

/**
 * What it says after an answer: the model, the tokens and, for chat, the finish reasons. The
 * model is the one llmq called (`result.model` without its provider), as adapters keep no other.
 */
export function genAiAnswerAttributes(
  reference: ModelReference,
  answer: { result: ChatCompletionResult | EmbeddingResult; usage: JobUsage },
): Attributes {
  const prefix = `${reference.provider}/`;
  const model = answer.result.model.startsWith(prefix) ? answer.result.model.slice(prefix.length) : reference.modelId;
  return {
    [ATTR_GEN_AI_RESPONSE_MODEL]: model,
    [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: answer.usage.input_tokens,
    [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: answer.usage.output_tokens,
    ...(answer.result.object === 'chat.completion'
      ? { [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: answer.result.choices.map((choice) => choice.finish_reason) }
      : {}),
  };
}

/**
 * One provider call in a CLIENT span named `{operation} {model}`, as the GenAI conventions name
 * it; a failed call carries `error.type` (the ProviderError's kind).
 */
export function traceProviderCall<T extends { result: ChatCompletionResult | EmbeddingResult; usage: JobUsage }>(
  call: { type: JobType; reference: ModelReference; attempt: number },
  work: () => Promise<T>,
): Promise<T> {
  const attributes = { ...genAiCallAttributes(call), 'llmq.attempt': call.attempt };
  const operation = call.type === 'chat' ? GEN_AI_OPERATION_NAME_VALUE_CHAT : GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS;
  return inSpan(`${operation} ${call.reference.modelId}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    const answer = await work();
    span.setAttributes(genAiAnswerAttributes(call.reference, answer));
    return answer;
  });
}
