import { resolveModel, type ModelCatalog } from '../catalog/model-catalog.js';
import type { PriceTable } from '../cost/price-table.js';
import { requestedMaxTokens } from '../jobs/chat-request-schema.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import { formatModelName } from '../models/model-name.js';

/**
 * The most a job may cost, nano-dollars, for its budget reservation: the limiter's token
 * estimate (`estimateJobTokens`: prompt + the most the answer may use) split into input and
 * output, priced on the dearest model the job may reach (its chain and fallbacks). Models
 * without a price count 0: their cost is unknown and not held against the budget.
 */
export function estimateJobCostNano(options: {
  submission: JobSubmission;
  /** The limiter's estimate of the job, from `estimateJobTokens`. */
  tokens: number;
  catalog: ModelCatalog;
  prices: PriceTable;
  /** Output tokens a chat request without max_tokens may use (`default_output_tokens`). */
  defaultOutputTokens: number;
  /** What Anthropic answers may use without max_tokens. Default 4096, as `estimateJobTokens`. */
  anthropicDefaultMaxTokens?: number;
}): number {
  const { submission, catalog } = options;
  const maxOutput = (provider: string | undefined): number => {
    if (submission.type !== 'chat') return 0;
    const anthropic = provider !== undefined && catalog.providers.get(provider)?.kind === 'anthropic';
    const fallback = anthropic
      ? Math.max(options.defaultOutputTokens, options.anthropicDefaultMaxTokens ?? 4096)
      : options.defaultOutputTokens;
    return requestedMaxTokens(submission.request) ?? fallback;
  };
  const first = resolveModel(catalog, submission.request.model);
  // The estimate's output share is the first model's; what remains is the prompt.
  const prompt = Math.max(0, options.tokens - maxOutput(first.ok ? first.chain[0]?.provider : undefined));
  let dearest = 0;
  for (const name of [submission.request.model, ...(submission.fallbacks ?? [])]) {
    const resolution = resolveModel(catalog, name);
    if (!resolution.ok) continue;
    for (const reference of resolution.chain) {
      const cost = options.prices.costOf(formatModelName(reference), {
        input_tokens: prompt,
        output_tokens: maxOutput(reference.provider),
      });
      if (cost.known) dearest = Math.max(dearest, cost.nano);
    }
  }
  return dearest;
}
