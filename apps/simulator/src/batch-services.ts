import type { AnthropicBatch } from './anthropic-batch.js';
import { anthropicBatchRoutes } from './anthropic-batch-routes.js';
import type { BatchContext, BatchRoute } from './batch-routing.js';
import type { GeminiBatch } from './gemini-batch.js';
import { geminiBatchRoutes } from './gemini-batch-routes.js';
import { BatchStore } from './batch-store.js';
import type { OpenAIBatch } from './openai-batch.js';
import { openAIBatchRoutes } from './openai-batch-routes.js';
import { openAIFileRoutes } from './openai-file-routes.js';
import { OpenAIFileStore } from './openai-file-store.js';

/** The three providers' batch APIs, their in-memory stores and routes. */
export interface BatchServices {
  readonly routes: readonly BatchRoute[];
  /** Drops every batch and file. */
  reset(): void;
  /** Stops every batch's timers (the simulator is closing). */
  dispose(): void;
}

export function createBatchServices(
  context: BatchContext,
  options: { maxBatches?: number | undefined; maxStoredFileBytes?: number | undefined },
): BatchServices {
  const files = new OpenAIFileStore(options.maxStoredFileBytes);
  const openAIBatches = new BatchStore<OpenAIBatch>(options.maxBatches);
  const anthropicBatches = new BatchStore<AnthropicBatch>(options.maxBatches);
  const geminiBatches = new BatchStore<GeminiBatch>(options.maxBatches);
  const routes: BatchRoute[] = [
    ...openAIFileRoutes(files),
    ...openAIBatchRoutes({ context, files, batches: openAIBatches }),
    ...anthropicBatchRoutes(context, anthropicBatches),
    ...geminiBatchRoutes(context, geminiBatches),
  ];
  const clearBatches = (): void => {
    openAIBatches.clear();
    anthropicBatches.clear();
    geminiBatches.clear();
  };
  return {
    routes,
    reset() {
      clearBatches();
      files.clear();
    },
    dispose: clearBatches,
  };
}
