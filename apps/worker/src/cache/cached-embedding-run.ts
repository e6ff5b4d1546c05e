import {
  formatModelName,
  type CallOptions,
  type EmbeddingJobSubmission,
  type EmbeddingModel,
  type EmbeddingResult,
  type PricedUsage,
} from '@llmq/core';
import type { JobOutcome } from '../run-chat-job.js';
import { runEmbeddingJob } from '../run-embedding-job.js';
import type { JobCache } from './job-cache.js';

/** What cached inputs saved a job that still called its provider for the others. */
export interface CacheSavings {
  /** Inputs answered from the cache. */
  inputs: number;
  usage: PricedUsage;
}

export type CachedEmbeddingOutcome = JobOutcome<EmbeddingResult> & { cacheSavings?: CacheSavings };

/**
 * An embedding job through the per-input cache: only inputs the cache does not know (each once,
 * however often it repeats) go to the provider, new vectors are stored, and the result is
 * reassembled in input order. The job's usage is what the provider reported for the call.
 */
export async function runCachedEmbeddingJob(options: {
  tenant: string;
  submission: EmbeddingJobSubmission;
  model: EmbeddingModel;
  cache: JobCache;
  callOptions: CallOptions;
}): Promise<CachedEmbeddingOutcome> {
  const { submission, model, cache, tenant } = options;
  const modelName = formatModelName({ provider: model.provider, modelId: model.modelId });
  const known = await cache.knownVectors(tenant, submission, modelName).catch(() => null);
  if (known === null) return runEmbeddingJob(submission, model, options.callOptions);

  const missing = new Map<string, string>();
  for (const [index, vector] of known.vectors.entries()) {
    const key = known.keys[index];
    const input = known.inputs[index];
    if (vector === null && key !== undefined && input !== undefined) missing.set(key, input);
  }
  const cachedInputs = known.inputs.filter((_input, index) => known.vectors[index] !== null);
  cache.recordEmbeddingLookup(tenant, modelName, cachedInputs.length, known.inputs.length - cachedInputs.length);

  const fetched = new Map<string, number[]>();
  let usage = { input_tokens: 0, output_tokens: 0 };
  let promptTokens = 0;
  if (missing.size > 0) {
    const outcome = await runEmbeddingJob(
      { ...submission, request: { ...submission.request, input: [...missing.values()] } },
      model,
      options.callOptions,
    );
    for (const [position, key] of [...missing.keys()].entries()) {
      const embedding = outcome.result.data[position]?.embedding;
      if (embedding !== undefined) fetched.set(key, embedding);
    }
    usage = outcome.usage;
    promptTokens = outcome.result.usage.prompt_tokens;
    await cache.exact
      .setVectors(
        [...fetched.entries()].map(([key, vector]) => ({ key, vector })),
        known.decision.ttlMs,
      )
      .catch(() => undefined);
  }
  const data: EmbeddingResult['data'] = known.keys.map((key, index) => ({
    object: 'embedding',
    index,
    embedding: fetched.get(key) ?? Array.from(known.vectors[index] ?? []),
  }));
  return {
    result: {
      object: 'list',
      model: modelName,
      provider: model.provider,
      data,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
    usage,
    ...(cachedInputs.length > 0
      ? { cacheSavings: { inputs: cachedInputs.length, usage: await cache.inputUsage(modelName, cachedInputs) } }
      : {}),
  };
}
