import { z } from 'zod';
import { chatJobCacheSchema, embeddingJobCacheSchema } from '../cache/cache-config-schema.js';
import { resolveModel, type ModelCatalog } from '../catalog/model-catalog.js';
import { chatRequestSchema } from './chat-request-schema.js';
import { embeddingRequestSchema } from './embedding-request-schema.js';

export const JOB_TYPES = ['chat', 'embedding'] as const;
export type JobType = (typeof JOB_TYPES)[number];

const metadataSchema = z
  .record(
    z.string().max(64, 'keys are at most 64 characters'),
    z.string().max(512, 'values are strings of at most 512 characters'),
    {
      error: 'must be an object of string values',
    },
  )
  .refine((metadata) => Object.keys(metadata).length <= 16, { message: 'at most 16 keys' });

const webhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).max(2048),
});

const fallbacksSchema = z.array(z.string().min(1)).max(5, 'at most 5 fallback models');

/** Upper bounds of the per-job overrides; a deployment may set lower ones. */
export const JOB_OVERRIDE_LIMITS = { attempts: 10, timeoutSeconds: 3_600, deadlineSeconds: 7 * 24 * 3_600 } as const;

const PRIORITY_PROBLEM = 'must be "interactive", "default", "bulk" or an integer from 0 (first) to 9';
// One message whichever branch refused the value.
const priorityRange = { error: PRIORITY_PROBLEM };

const common = {
  fallbacks: fallbacksSchema.optional(),
  /** Provider calls per model before falling back or failing. */
  attempts: z.number().int().min(1).max(JOB_OVERRIDE_LIMITS.attempts).optional(),
  /** Time limit of one provider call, seconds. */
  timeout_s: z.number().positive().max(JOB_OVERRIDE_LIMITS.timeoutSeconds).optional(),
  /** The job fails with `timeout` unless it succeeds within this many seconds of submission. */
  deadline_s: z.number().positive().max(JOB_OVERRIDE_LIMITS.deadlineSeconds).optional(),
  webhook: webhookSchema.optional(),
  metadata: metadataSchema.optional(),
  /**
   * The job may wait up to a day: it goes through its provider's batch API at the batch price
   * where the provider has one. Its deadline defaults to 24 h.
   */
  completion_window: z.literal('24h', { error: 'must be "24h", the one window there is' }).optional(),
  /**
   * Order among the tenant's own jobs waiting for the same model: "interactive" (2), "default"
   * (5), "bulk" (8) or 0-9, lower first. Between tenants the fair share decides.
   */
  priority: z
    .union(
      [
        z.enum(['interactive', 'default', 'bulk']),
        z.number(priorityRange).int(priorityRange).min(0, priorityRange).max(9, priorityRange),
      ],
      {
        error: PRIORITY_PROBLEM,
      },
    )
    .optional(),
};

const PRIORITY_RANKS = { interactive: 2, default: 5, bulk: 8 } as const;
/** Deferrable work comes after every priority. */
const DEFERRABLE_RANK = 10;

/** A job's rank among its tenant's calls for a model (see limiter-fair.lua): lower goes first. */
export function jobRank(submission: Pick<JobSubmission, 'priority' | 'completion_window'>): number {
  if (submission.completion_window) return DEFERRABLE_RANK;
  const priority = submission.priority ?? 'default';
  return typeof priority === 'number' ? priority : PRIORITY_RANKS[priority];
}

/** The rank of a job that names none. */
export const DEFAULT_RANK = PRIORITY_RANKS.default;

const chatJobSchema = z.strictObject({
  type: z.literal('chat'),
  request: chatRequestSchema,
  ...common,
  /** Response cache for this job (see cache-policy.ts); default: the config's rule for the model. */
  cache: chatJobCacheSchema.optional(),
});
const embeddingJobSchema = z.strictObject({
  type: z.literal('embedding'),
  request: embeddingRequestSchema,
  ...common,
  /** Per-input vector cache for this job; default: the config's rule for the model. */
  cache: embeddingJobCacheSchema.optional(),
});

const baseSubmissionSchema = z.discriminatedUnion('type', [chatJobSchema, embeddingJobSchema], {
  error: (issue) => {
    const input: unknown = issue.input;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'the body must be a JSON object';
    const type = (input as Record<string, unknown>).type;
    return type === undefined
      ? 'is required: "chat" or "embedding"'
      : `must be "chat" or "embedding" (got ${JSON.stringify(type)})`;
  },
});

export type JobSubmission = z.infer<typeof baseSubmissionSchema>;
export type ChatJobSubmission = z.infer<typeof chatJobSchema>;
export type EmbeddingJobSubmission = z.infer<typeof embeddingJobSchema>;

/**
 * The schema of `POST /v1/jobs` bodies for one deployment: the static shape plus the checks
 * that need the catalog (providers exist, aliases resolve, the provider can serve the job type).
 * The API validates with it at submit time and the worker re-validates what it dequeues.
 */
export function createJobSubmissionSchema(
  catalog: ModelCatalog,
  options: {
    /**
     * Submit-time check of `webhook.url` (see checkWebhookUrl): the problem, or null. The API
     * passes one; the worker does not, since deliveries check again at every send. Default: none.
     */
    webhookUrlProblem?: (url: string) => string | null;
    /**
     * Whether `cache.mode: "semantic"` can be served (the config has `cache.semantic`). The API
     * passes it; the worker does not, and falls back to exact. Default: true.
     */
    semanticCache?: boolean;
  } = {},
) {
  return baseSubmissionSchema.superRefine((submission, context) => {
    const webhookProblem = submission.webhook && options.webhookUrlProblem?.(submission.webhook.url);
    if (webhookProblem) context.addIssue({ code: 'custom', path: ['webhook', 'url'], message: webhookProblem });
    if (submission.cache?.mode === 'semantic' && options.semanticCache === false) {
      context.addIssue({
        code: 'custom',
        path: ['cache', 'mode'],
        message: '"semantic" is not available: this deployment configures no cache.semantic.embedding_model',
      });
    }
    const models: Array<{ name: string; path: Array<string | number> }> = [
      { name: submission.request.model, path: ['request', 'model'] },
      ...(submission.fallbacks ?? []).map((name, index) => ({ name, path: ['fallbacks', index] })),
    ];
    for (const model of models) {
      const resolution = resolveModel(catalog, model.name);
      if (!resolution.ok) {
        context.addIssue({ code: 'custom', path: model.path, message: resolution.problem });
        continue;
      }
      for (const reference of resolution.chain) {
        const provider = catalog.providers.get(reference.provider);
        if (provider === undefined) continue;
        if (submission.type === 'embedding' && !provider.supportsEmbeddings) {
          context.addIssue({
            code: 'custom',
            path: model.path,
            message: `provider "${provider.name}" does not serve embedding jobs`,
          });
          continue;
        }
        const problems =
          submission.type === 'chat'
            ? (provider.chatRequestProblems?.(submission.request) ?? [])
            : (provider.embeddingRequestProblems?.(submission.request) ?? []);
        for (const problem of problems) {
          context.addIssue({
            code: 'custom',
            path: ['request', ...splitField(problem.field)],
            message: `${problem.message} by provider "${provider.name}"${
              model.path[0] === 'fallbacks' ? ` (fallback "${model.name}")` : ''
            }`,
          });
        }
      }
    }
  });
}

/** `messages[2].content` -> ['messages', 2, 'content'] */
function splitField(field: string): Array<string | number> {
  return field
    .split(/\.|\[|\]/)
    .filter((part) => part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}
