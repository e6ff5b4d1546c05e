import {
  embeddingInputs,
  type CallOptions,
  type EmbeddingJobSubmission,
  type EmbeddingModel,
  type EmbeddingResult,
} from '@llmq/core';
import type { JobOutcome } from './run-chat-job.js';

/** Splits the inputs into provider-sized calls, one after another, and reassembles them in order. */
export async function runEmbeddingJob(
  submission: EmbeddingJobSubmission,
  model: EmbeddingModel,
  options: CallOptions,
): Promise<JobOutcome<EmbeddingResult>> {
  const inputs = embeddingInputs(submission.request);
  const data: EmbeddingResult['data'] = [];
  let promptTokens = 0;
  for (let start = 0; start < inputs.length; start += model.maxEmbeddingsPerCall) {
    const batch = inputs.slice(start, start + model.maxEmbeddingsPerCall);
    const answer = await model.doEmbed(
      batch,
      { dimensions: submission.request.dimensions, user: submission.request.user },
      options,
    );
    for (const [offset, embedding] of answer.embeddings.entries()) {
      data.push({ object: 'embedding', index: start + offset, embedding });
    }
    promptTokens += answer.promptTokens;
  }
  return {
    result: {
      object: 'list',
      model: `${model.provider}/${model.modelId}`,
      provider: model.provider,
      data,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
    usage: { input_tokens: promptTokens, output_tokens: 0 },
  };
}
