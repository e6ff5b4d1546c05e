import type {
  ChatCompletionResult,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResult,
  JobUsage,
  ProviderError,
} from '@llmq/core';

/** What a provider batch is made of: chat requests or embedding requests (one endpoint a batch). */
export type BatchEndpoint = 'chat' | 'embedding';

/** One request of a provider batch: the job it answers and its body in the provider's wire format. */
export interface BatchLine {
  customId: string;
  body: unknown;
}

/** How one line of a finished provider batch came back. */
export type BatchLineOutcome =
  | { customId: string; kind: 'answer'; result: ChatCompletionResult | EmbeddingResult; usage: JobUsage }
  | { customId: string; kind: 'error'; error: ProviderError };

/**
 * A provider batch's state as a poll sees it. An ended batch's `status` is said in OpenAI's words
 * whatever the provider: `completed`, `failed`, `expired` or `cancelled`.
 */
export type BatchState = { ended: false } | { ended: true; status: string };

/**
 * A provider's batch API as llmq uses it: chat requests in, a batch id out, polled until it ends,
 * then its lines streamed back. Lines missing from the results (expired, canceled) are the
 * caller's to run another way.
 */
export interface ProviderBatchApi {
  readonly provider: string;
  /** Most requests one batch of this provider takes. */
  readonly maxRequests: number;
  /** Most request bytes one batch of this provider takes (lines as `chatLine` makes them, plus their framing). */
  readonly maxBytes: number;
  /** The body of one chat request for `modelId`. */
  chatLine(request: ChatRequest, modelId: string): unknown;
  /** The body of one embedding request for `modelId`; absent when the provider batches no embeddings. */
  embeddingLine?(request: EmbeddingRequest, modelId: string): unknown;
  /** Most inputs one embedding line may carry. */
  readonly maxEmbeddingInputs?: number;
  /** Creates a batch of `lines`, tagged with `intent` so that `findByIntent` can find it after a crash. */
  create(options: { modelId: string; lines: BatchLine[]; intent: string; endpoint?: BatchEndpoint }): Promise<string>;
  /** The batch a previous `create` with this intent made, if the provider has it. */
  findByIntent(intent: string): Promise<string | null>;
  state(batchId: string): Promise<BatchState>;
  /** The lines of an ended batch, one at a time (an output file may be hundreds of MB). */
  results(batchId: string, model: string): AsyncIterable<BatchLineOutcome>;
  cancel(batchId: string): Promise<void>;
}

/** Runs `work` and throws its failure as `mapError` makes it: the adapters' ProviderError, as their chat calls throw it. */
export async function withMappedFailure<T>(work: () => Promise<T>, mapError: (error: unknown) => Error): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw mapError(error);
  }
}
