import picomatch from 'picomatch';
import type { ChatRequest } from '../jobs/chat-request-schema.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import type { CacheConfig, JobCacheRequest, SemanticCacheConfig } from './cache-config-schema.js';

/** How one job's answer from one model is looked up and stored. */
export interface CacheDecision {
  mode: 'exact' | 'semantic';
  /** Lifetime of a stored entry, ms. */
  ttlMs: number;
  /** Semantic mode: least cosine similarity that answers. */
  threshold: number;
  /** Exact entries are shared by every tenant (config `share_across_tenants`). */
  shared: boolean;
  /** `job` when the job asked, else `config: <pattern>`. */
  source: string;
}

/**
 * Requests whose answer is worth reusing without the job asking: temperature 0, or no
 * temperature with a seed (OpenAI's reproducible sampling). Anything else samples, and a
 * config default must not turn varied answers into one repeated answer.
 */
export function isDeterministicRequest(request: ChatRequest): boolean {
  return request.temperature === 0 || (request.temperature === undefined && request.seed !== undefined);
}

type ModelRule = CacheConfig['models'][string];

/** Resolves a job's cache settings: its own `cache` first, then the `cache.models` rule of the model. */
export class CachePolicy {
  readonly #config: CacheConfig;
  readonly #rules: Array<{ pattern: string; match: (model: string) => boolean; rule: ModelRule }>;

  constructor(config: CacheConfig) {
    this.#config = config;
    this.#rules = Object.entries(config.models)
      .sort(([left], [right]) => Number(left.includes('*')) - Number(right.includes('*')) || right.length - left.length)
      .map(([pattern, rule]) => ({ pattern, match: picomatch(pattern, { dot: true }), rule }));
  }

  /** The semantic settings, when the config has them. */
  get semantic(): SemanticCacheConfig | undefined {
    return this.#config.semantic;
  }

  /**
   * Whether a job whose own `cache.mode` is `ownMode` may be cached on `model`, without reading
   * the job: lets a worker skip the lookup (and its read of the record) for most jobs.
   */
  mayApply(ownMode: string | undefined, model: string): boolean {
    if (ownMode !== undefined) return ownMode !== 'off';
    const matched = this.#rules.find((candidate) => candidate.match(model));
    return matched !== undefined && matched.rule.mode !== 'off';
  }

  /** How `submission`'s answer from the concrete `model` is cached; null when it is not. */
  decide(submission: JobSubmission, model: string): CacheDecision | null {
    const own: JobCacheRequest | undefined = submission.cache;
    if (own?.mode === 'off') return null;
    const matched = this.#rules.find((candidate) => candidate.match(model));
    let mode: 'exact' | 'semantic';
    let source: string;
    if (own) {
      mode = own.mode;
      source = 'job';
    } else {
      if (matched === undefined || matched.rule.mode === 'off') return null;
      if (submission.type === 'chat' && !isDeterministicRequest(submission.request)) return null;
      mode = matched.rule.mode;
      source = `config: ${matched.pattern}`;
    }
    // Vectors are cached per input; prompts are compared by meaning only in chat jobs.
    if (submission.type === 'embedding' || this.#config.semantic === undefined) mode = 'exact';
    const ttlSeconds = own?.ttl_s ?? matched?.rule.ttl_s ?? this.#config.ttl_s;
    const ownThreshold = own && 'threshold' in own ? own.threshold : undefined;
    return {
      mode,
      ttlMs: ttlSeconds * 1000,
      threshold: ownThreshold ?? matched?.rule.threshold ?? this.#config.semantic?.threshold ?? 1,
      shared: this.#config.share_across_tenants,
      source,
    };
  }
}
